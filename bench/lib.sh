# Sourced by the benchmarks: installs what they need, builds the Debian image once, publishes strata, and sets
# $strata, $cache and $work (a fresh directory on tmpfs, removed on exit unless the caller sets its own trap).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
bash bench/make-debian-image.sh
bash scripts/build.sh
strata=$PWD/artifacts/bin/strata
cache=${STRATA_BENCH_CACHE:-/var/cache/strata-bench}
work=/dev/shm/strata-bench-$1
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
