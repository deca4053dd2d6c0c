#!/usr/bin/env bash
# Container benchmark, one run, side by side on tmpfs, Debian minbase image (bench/make-debian-image.sh):
#   create + mount 50 containers: strata vs podman create + podman mount (target: strata <= 0.5x)
#   commit a 20 MB change (20 MB file added, /usr/share/doc deleted): strata vs podman commit (target <= 0.5x)
# Usage: bench/containers.sh [RUNS]
runs=${1:-3}
source "$(dirname "$0")/lib.sh" containers
cleanup() {
  "$strata" --root "$work/strata" ps -q 2>/dev/null | while read -r c; do "$strata" --root "$work/strata" rm -f "$c" >/dev/null 2>&1 || true; done
  podman "${P[@]}" rm -af >/dev/null 2>&1 || true
  { grep -o " $work[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
P=(--root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
trap 'cleanup; rm -rf "$work"' EXIT

"$strata" --root "$work/strata" load -q -i "$cache/debian-bookworm.docker.tar" >/dev/null
podman "${P[@]}" load -q -i "$cache/debian-bookworm.docker.tar" >/dev/null
img=docker.io/library/debian:bookworm
# The layer is unpacked once by the first create (as podman's load does): do it outside the timing.
"$strata" --root "$work/strata" rm "$("$strata" --root "$work/strata" create "$img" 2>/dev/null)" >/dev/null

cat > "$work/strata50.sh" <<S
for i in \$(seq 50); do c=\$($strata --root $work/strata create $img 2>/dev/null); $strata --root $work/strata mount \$c >/dev/null; done
S
cat > "$work/podman50.sh" <<S
for i in \$(seq 50); do c=\$(podman ${P[*]} create $img); podman ${P[*]} mount \$c >/dev/null; done
S
hyperfine --style basic --runs "$runs" --export-json "$work/create.json" --cleanup "bash -c 'true'" \
  --prepare "bash -c '$(declare -f cleanup | sed "s/'/'\\\\''/g"); P=(${P[*]}); strata=$strata; work=$work; cleanup'" \
  -n "strata create+mount x50" "bash $work/strata50.sh" \
  -n "podman create+mount x50" "bash $work/podman50.sh"
jq -r '.results | (map({(.command): .median}) | add) as $m
  | "strata / podman (50 create+mount): \($m["strata create+mount x50"] / $m["podman create+mount x50"] * 100 | round / 100)x (target <= 0.5)"' "$work/create.json"
cleanup
"$strata" --root "$work/strata" create --name one "$img" >/dev/null 2>&1
du -sk "$work/strata" | awk '{print "strata store with 1 container: " $1 " KiB"}'
for i in $(seq 49); do "$strata" --root "$work/strata" create "$img" >/dev/null 2>&1; done
du -sk "$work/strata" | awk '{print "strata store with 50 containers: " $1 " KiB"}'

# Commit: the same 20 MB change in each tool's container.
sc=$("$strata" --root "$work/strata" create "$img" 2>/dev/null); sm=$("$strata" --root "$work/strata" mount "$sc")
pc=$(podman "${P[@]}" create "$img"); pm=$(podman "${P[@]}" mount "$pc")
for m in "$sm" "$pm"; do head -c 20M /dev/urandom > "$m/big.bin"; rm -rf "$m/usr/share/doc"; done
hyperfine --style basic --runs "$runs" --export-json "$work/commit.json" \
  -n "strata commit" "$strata --root $work/strata commit $sc bench/committed:s" \
  -n "podman commit" "podman ${P[*]} commit -q $pc bench/committed:p"
jq -r '.results | (map({(.command): .median}) | add) as $m
  | "strata / podman (commit 20 MB): \($m["strata commit"] / $m["podman commit"] * 100 | round / 100)x (target <= 0.5)"' "$work/commit.json"
