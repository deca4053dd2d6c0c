#!/usr/bin/env bash
# Builds the benchmark image (Debian bookworm minbase) once, into a cache dir:
#   $CACHE/oci                      OCI image layout, tagged debian:bookworm
#   $CACHE/debian-bookworm.docker.tar docker-archive of the same image
# Idempotent: when both exist it does nothing. Usage: make-debian-image.sh [CACHE_DIR]
# The mirror comes from this machine's apt sources, so the script works wherever apt works.
set -euo pipefail

cache=${1:-${STRATA_BENCH_CACHE:-/var/cache/strata-bench}}
layout=$cache/oci
archive=$cache/debian-bookworm.docker.tar
tag=bookworm

if [ -f "$layout/index.json" ] && [ -f "$archive" ]; then
  echo "make-debian-image: already built in $cache" >&2
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "make-debian-image: needs root (debootstrap, chroot, device nodes)" >&2; exit 1; }

need=()
for t in debootstrap umoci skopeo; do command -v "$t" >/dev/null || need+=("$t"); done
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The first Debian (not -security, not -updates) mirror apt is configured with. deb822 ".sources" files
# first (Debian 12's default), then one-line "deb URI SUITE ..." entries.
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # Stanzas are separated by blank lines; take the URI of one whose Suites include bookworm itself.
    awk 'BEGIN{RS=""; FS="\n"}
         { uri=""; ok=0
           for (i=1;i<=NF;i++) {
             if ($i ~ /^URIs:/)   { split($i,a,/[ \t]+/); uri=a[2] }
             if ($i ~ /^Suites:/) { n=split($i,s,/[ \t]+/); for (j=2;j<=n;j++) if (s[j]=="bookworm") ok=1 }
             if ($i ~ /^Enabled:[ \t]*no/) ok=0
           }
           if (ok && uri!="") { print uri; exit } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1=="deb" { i=2; if ($2 ~ /^\[/) { while (i<=NF && $i !~ /\]$/) i++; i++ }
                     if ($(i+1)=="bookworm") { print $i; exit } }' "$f"
  done
}
url=$(mirror | head -1)
[ -n "$url" ] || { echo "make-debian-image: no bookworm mirror in /etc/apt/sources.list{,.d}" >&2; exit 1; }
echo "make-debian-image: debootstrap from $url" >&2

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

debootstrap --variant=minbase bookworm "$root" "$url" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
# As the official images do: no package cache, no apt lists, no device nodes (the runtime provides /dev).
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/dev/*

umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack --image "$work/oci:$tag" "$work/bundle" >/dev/null
cp -a "$root/." "$work/bundle/rootfs/"
umoci repack --image "$work/oci:$tag" "$work/bundle"
umoci config --image "$work/oci:$tag" --config.cmd bash \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umoci gc --layout "$work/oci"

skopeo copy -q "oci:$work/oci:$tag" "docker-archive:$work/image.docker.tar:debian:$tag"

# Publish atomically-enough: the layout directory last, so a half-built cache is never taken as done.
rm -rf "$layout" "$archive"
mv "$work/image.docker.tar" "$archive"
mv "$work/oci" "$layout"
echo "make-debian-image: built $layout ($tag) and $archive" >&2
