#!/usr/bin/env bash
# create cost, one run, on tmpfs: strata create with the overlay driver vs the vfs driver, on the Debian minbase image
# (121 MB) and on the same image grown 10x (one more layer of 1.1 GB). Targets (issue 3): overlay create on the large
# image at most 1/100 of vfs, and flat when the image grows 10x. Layers are unpacked before timing.
# Usage: bench/create.sh [RUNS]
runs=${1:-5}
source "$(dirname "$0")/lib.sh" create

# The large image: the Debian tree plus 1.1 GB in 11 files, imported as one image.
mkdir -p "$work/big"
tar -xf "$cache/debian-bookworm.docker.tar" -O --wildcards '*.tar' | tar -x -C "$work/big" 2>/dev/null || true
for i in $(seq 11); do head -c 100M /dev/zero | tr '\0' "$i" > "$work/big/blob$i"; done
for d in overlay vfs; do
  "$strata" --root "$work/$d" load -q -i "$cache/debian-bookworm.docker.tar" >/dev/null
  "$strata" --root "$work/$d" import "$work/big" bench/big:1 >/dev/null
  for img in docker.io/library/debian:bookworm bench/big:1; do   # unpack the layers once, outside the timing
    "$strata" --root "$work/$d" --driver "$d" rm "$("$strata" --root "$work/$d" --driver "$d" create "$img" 2>/dev/null)" >/dev/null
  done
done
rm -rf "$work/big"
echo "small image: $(du -sh "$work/overlay/overlay" | cut -f1) of layers; large image: +1.1 GB"

# After each command's runs, its containers go (hyperfine 1.15 has --cleanup per command, not per run).
clean="bash -c 'for d in overlay vfs; do $strata --root $work/\$d ps -q | xargs -r $strata --root $work/\$d rm >/dev/null; done'"
hyperfine --style basic --runs "$runs" --export-json "$work/r.json" --cleanup "$clean" \
  -n "overlay create, 121 MB image" "$strata --root $work/overlay create docker.io/library/debian:bookworm" \
  -n "overlay create, 1.2 GB image" "$strata --root $work/overlay create bench/big:1" \
  -n "vfs create, 121 MB image" "$strata --root $work/vfs create docker.io/library/debian:bookworm" \
  -n "vfs create, 1.2 GB image" "$strata --root $work/vfs create bench/big:1"
jq -r '.results | (map({(.command): .median}) | add) as $m
  | "overlay / vfs on the 1.2 GB image: \($m["overlay create, 1.2 GB image"] / $m["vfs create, 1.2 GB image"] * 1000 | round / 1000)x (target <= 0.01)",
    "overlay create, 1.2 GB / 121 MB image: \($m["overlay create, 1.2 GB image"] / $m["overlay create, 121 MB image"] * 100 | round / 100)x (target: flat, ~1)"' "$work/r.json"

# diff and commit of one changed file: flat when the image grows 10x (they read the writable layer only).
for img in docker.io/library/debian:bookworm bench/big:1; do
  n=$(echo "$img" | tr -c 'a-z0-9' '-')
  "$strata" --root "$work/overlay" create --name "c$n" "$img" >/dev/null 2>&1
  m=$("$strata" --root "$work/overlay" mount "c$n")
  echo changed >> "$m/etc/hostname"
  "$strata" --root "$work/overlay" umount "c$n" >/dev/null
done
hyperfine --style basic --runs "$runs" --export-json "$work/d.json" \
  -n "diff, 121 MB image" "$strata --root $work/overlay diff cdocker-io-library-debian-bookworm-" \
  -n "diff, 1.2 GB image" "$strata --root $work/overlay diff cbench-big-1-" \
  -n "commit, 121 MB image" "$strata --root $work/overlay commit cdocker-io-library-debian-bookworm-" \
  -n "commit, 1.2 GB image" "$strata --root $work/overlay commit cbench-big-1-"
jq -r '.results | (map({(.command): .median}) | add) as $m
  | "diff, 1.2 GB / 121 MB image: \($m["diff, 1.2 GB image"] / $m["diff, 121 MB image"] * 100 | round / 100)x (target: flat)",
    "commit, 1.2 GB / 121 MB image: \($m["commit, 1.2 GB image"] / $m["commit, 121 MB image"] * 100 | round / 100)x (target: flat)"' "$work/d.json"
