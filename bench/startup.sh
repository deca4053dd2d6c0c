#!/usr/bin/env bash
# Start-up benchmark (issue 11: `strata --version` and `strata images` on an empty store at most 0.3x podman's
# time for the same). Runs strata and podman side by side with hyperfine (no shell in between, warm page cache),
# empty stores on tmpfs, and prints each ratio of medians.
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

jq -r '.results | map(.median * 1000) as $m | map((.stddev // 0) * 1000) as $s |
  ["--version", $m[0], $s[0], $m[1], $s[1], $m[0] / $m[1]], ["images (empty store)", $m[2], $s[2], $m[3], $s[3], $m[2] / $m[3]] |
  "\(.[0]): strata \(.[1] * 10 | round / 10) ms (sd \(.[2] * 10 | round / 10)), podman \(.[3] * 10 | round / 10) ms (sd \(.[4] * 10 | round / 10)), ratio \(.[5] * 100 | round / 100)x (target <= 0.3)"' "$work/r.json"
