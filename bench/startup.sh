#!/usr/bin/env bash
# Start-up benchmark (issue 11: `strata --version` and `strata images` on an empty store at most 0.3x podman's
# time for the same). Runs strata and podman side by side with hyperfine (no shell in between, warm page cache),
# empty stores on tmpfs, and prints each ratio of median wall times (and of CPU times).
# Usage: bash bench/startup.sh [runs] [strata binary]   (default 200 runs, artifacts/bin/strata)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
strata=${2:-}
if [ -z "$strata" ]; then
  bash scripts/setup.sh
  bash scripts/build.sh
  strata=$PWD/artifacts/bin/strata
fi
work=/dev/shm/strata-bench-startup
rm -rf "$work"; mkdir -p "$work"/{strata,podman,podman-run}
trap 'rm -rf "$work"' EXIT

podman=(podman --root "$work/podman" --runroot "$work/podman-run" --storage-driver vfs)
# Create both stores first: the timed runs open an existing empty store, as a user's second command does.
"$strata" images --root "$work/strata" >/dev/null
"${podman[@]}" images >/dev/null

hyperfine -N --style none --warmup 10 --runs "$runs" --export-json "$work/r.json" \
  "$strata --version" "podman --version" \
  "$strata images --root $work/strata" "${podman[*]} images" >/dev/null

# Wall time (median) is the target; CPU time (user + system, mean) is printed too, as it moves less when other
# work shares the machine.
jq -r '.results | map(.median * 1000) as $m | map((.user + .system) * 1000) as $c |
  def r: . * 10 | round / 10;
  ["--version", 0, 1], ["images (empty store)", 2, 3] | . as [$name, $s, $p] |
  "\($name): strata \($m[$s] | r) ms, podman \($m[$p] | r) ms: ratio \($m[$s] / $m[$p] * 100 | round / 100)x (target <= 0.3); CPU strata \($c[$s] | r) ms, podman \($c[$p] | r) ms: ratio \($c[$s] / $c[$p] * 100 | round / 100)x"' "$work/r.json"
