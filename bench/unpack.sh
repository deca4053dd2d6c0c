#!/usr/bin/env bash
# Unpack benchmark, one run, side by side on tmpfs: strata unpack vs tar -xzf of the same layer vs umoci unpack,
# on the Debian minbase image (bench/make-debian-image.sh). Prints medians and the ratios the issue sets:
# strata <= 1.2x tar -xzf and <= 0.5x umoci. Usage: bench/unpack.sh [RUNS]
runs=${1:-5}
source "$(dirname "$0")/lib.sh" unpack

# The layout's one layer, and the image loaded once into a strata store on tmpfs.
manifest=$(jq -r '.manifests[0].digest' "$cache/oci/index.json" | cut -d: -f2)
layer=$cache/oci/blobs/sha256/$(jq -r '.layers | max_by(.size) | .digest' "$cache/oci/blobs/sha256/$manifest" | cut -d: -f2)
id=$("$strata" --root "$work/root" load -q -i "$cache/oci" | head -1)
echo "layer: $(du -h "$layer" | cut -f1) gzip, $(zcat "$layer" | wc -c) bytes of tar; image $id"

hyperfine --style basic --runs "$runs" --warmup 1 --export-json "$work/result.json" \
  --prepare "rm -rf $work/t; mkdir -p $work/t" \
  -n "strata unpack" "$strata --root $work/root unpack $id $work/t/rootfs" \
  -n "tar -xzf" "tar -xzf $layer -C $work/t" \
  -n "umoci unpack" "umoci unpack --image $cache/oci:bookworm $work/t/bundle"

jq -r '.results | (map({(.command): .median}) | add) as $m
  | "strata / tar -xzf:  \($m["strata unpack"] / $m["tar -xzf"] * 100 | round / 100)x (target <= 1.2)",
    "strata / umoci:     \($m["strata unpack"] / $m["umoci unpack"] * 100 | round / 100)x (target <= 0.5)"' "$work/result.json"

# Memory: peak RSS of one unpack (streaming: it must not grow with the layer).
rm -rf "$work/t"; mkdir -p "$work/t"
/usr/bin/time -f "strata unpack peak RSS: %M KiB" "$strata" --root "$work/root" unpack "$id" "$work/t/rootfs"
