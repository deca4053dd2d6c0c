#!/usr/bin/env bash
# system check benchmark, one run, on tmpfs: the Debian minbase image (bench/make-debian-image.sh) loaded into a
# strata store and its layer unpacked by one container. Targets (issue 12): `system check --quick` under 1 s; the full
# check at disk/hash speed, at least 0.8x OpenSSL's SHA-256 rate over the same bytes: every blob and every file of
# every unpacked layer, as `openssl dgst -sha256 FILE...` hashes them (both page-cached, as a store in use is). Strata
# hashes on every CPU and OpenSSL on one, so on a busy machine the wall ratio falls toward the CPU-time ratio, also printed.
# Usage: bench/check.sh [RUNS]
runs=${1:-5}
source "$(dirname "$0")/lib.sh" check

root=$work/root
"$strata" --root "$root" load -q -i "$cache/debian-bookworm.docker.tar" >/dev/null
"$strata" --root "$root" create --name c docker.io/library/debian:bookworm >/dev/null 2>&1
[ "$("$strata" --root "$root" system check)" = "no problems found" ]

# The files a full check hashes: the blobs, and the trees of committed layers (those with a tree record).
{
  find "$root/blobs" -type f -print0
  for d in "$root"/overlay/*/; do [ -f "$d/tree.idx" ] && find "$d/diff" -type f -print0; done
} > "$work/files"
bytes=$(xargs -0 -a "$work/files" stat -c %s | awk '{s += $1} END {print s}')
echo "hashed by a full check: $(tr -cd '\0' < "$work/files" | wc -c) files, $bytes bytes"

hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$work/r.json" \
  -n "strata system check --quick" "$strata --root $root system check --quick" \
  -n "strata system check" "$strata --root $root system check" \
  -n "openssl dgst -sha256 (same files)" "xargs -0 -a $work/files openssl dgst -sha256 >/dev/null"

jq -r --argjson bytes "$bytes" '.results | (map({(.command): .median}) | add) as $m
  | "system check --quick:  \($m["strata system check --quick"] * 1000 | round) ms (target < 1000 ms)",
    "full check:            \($bytes / $m["strata system check"] / 1e6 | round) MB/s",
    "openssl dgst -sha256:  \($bytes / $m["openssl dgst -sha256 (same files)"] / 1e6 | round) MB/s",
    "full check / openssl rate: \($m["openssl dgst -sha256 (same files)"] / $m["strata system check"] * 100 | round / 100)x (target >= 0.8)",
    (map({(.command): (.user + .system)}) | add) as $c
  | "CPU time (user+sys), openssl / full check: \($c["openssl dgst -sha256 (same files)"] / $c["strata system check"] * 100 | round / 100)x (what a loaded machine leaves of the ratio)"' "$work/r.json"
