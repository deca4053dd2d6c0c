#!/usr/bin/env bash
# Builds two real multi-layer images for the pull benchmark, once, with umoci (a peer, not strata), into
# $CACHE/big (OCI layout):
#   big:1    Debian minbase + /usr/lib/gcc + /usr/share/perl + a small /etc layer: 4 layers, about 140 MB gzip
#   big:2    the same first three layers + one new small layer (/usr/lib/x86_64-linux-gnu/perl)
# The files come from this machine (clang/gcc are installed by scripts/setup.sh): real content, not random bytes.
# Idempotent. Usage: make-big-image.sh [CACHE_DIR]
set -euo pipefail
cache=${1:-${STRATA_BENCH_CACHE:-/var/cache/strata-bench}}
layout=$cache/big
[ -f "$layout/BUILT" ] && { echo "make-big-image: already built in $layout" >&2; exit 0; }
bash "$(dirname "$0")/make-debian-image.sh" "$cache"

tmp=$(mktemp -d /dev/shm/strata-big-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$layout"
cp -a "$cache/oci" "$tmp/layout"
umoci unpack --image "$tmp/layout:bookworm" "$tmp/b" >/dev/null

add_layer() { # TAG_FROM TAG_TO SOURCE_DIR...
  local from=$1 to=$2; shift 2
  rm -rf "$tmp/b"
  umoci unpack --image "$tmp/layout:$from" "$tmp/b" >/dev/null
  for src in "$@"; do
    mkdir -p "$tmp/b/rootfs$(dirname "$src")"
    cp -a "$src" "$tmp/b/rootfs$(dirname "$src")/"
  done
  umoci repack --image "$tmp/layout:$to" "$tmp/b" >/dev/null
}
add_layer bookworm gcc /usr/lib/gcc
add_layer gcc perl /usr/share/perl
add_layer perl big1 /etc/apt /etc/ssl
add_layer perl big2 /usr/lib/x86_64-linux-gnu/perl
for t in big1 big2; do
  umoci config --image "$tmp/layout:$t" --config.cmd /bin/sh >/dev/null
done
umoci gc --layout "$tmp/layout"
mkdir -p "$cache"
mv "$tmp/layout" "$layout"
touch "$layout/BUILT"
echo "make-big-image: built $layout (tags big1, big2)" >&2
