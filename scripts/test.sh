#!/usr/bin/env bash
# Runs every Strata test: installs what the tests need, publishes the NativeAOT strata the CLI tests drive,
# runs the suite, and prints one summary line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
bash scripts/build.sh || exit 1
# arm64 must keep building too (about 20 s; a plain build, its libc values are in src/Strata.Core/Native).
dotnet build src/Strata.Cli -c Release -r linux-arm64 --nologo -v quiet >&2 || exit 1
export STRATA_BIN="$PWD/artifacts/bin/strata"
# mount -t fuse.strata-overlay finds its helper on the standard PATH only (mount.fuse3 resets it).
if [ "$(id -u)" -eq 0 ]; then ln -sfn "$PWD/artifacts/bin/strata-overlay" /usr/local/bin/strata-overlay; fi

log=$(mktemp)
# Nothing a run starts or mounts may outlive it: its processes carry its id, its temp files have a root of their own,
# and scripts/leftovers.sh lists (and takes away) whatever is left, failing the run.
run_id=$(cat /proc/sys/kernel/random/uuid)
# (Short: podman refuses a run root over 50 characters, and tests make theirs two levels below.)
test_tmp=$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}" )/strata-r-${run_id:0:6}
state=$(mktemp)
bash scripts/leftovers.sh before "$state"
start=$SECONDS
# libarchive's tar corpus is no Debian package, so CI cannot have it: scripts/tar-corpus.sh runs that test alone.
# Arguments go to the test runner (for example --filter-class Strata.Tests.Cli.ContainerTests).
# A hang never stalls CI: 20 minutes in which no test starts or ends end the test host (its processes with it), and
# the tests then running are named from the hang log; xunit names any test past 10 minutes as it happens.
results=$(mktemp -d)
STRATA_TEST_RUN=$run_id STRATA_TEST_TMP=$test_tmp \
  dotnet test --project tests/Strata.Tests -c Release --results-directory "$results" -- --filter-not-trait "Corpus=libarchive" \
  --hangdump --hangdump-timeout 20m --hangdump-type None --long-running 600 "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
for hang in "$results"/Strata.Tests_*_hang.log; do
  [ -f "$hang" ] || continue
  echo "test.sh: the test host hung and was ended; tests running then:" >&2
  sort -u "$hang" | sed 's/^/  /' >&2
  rc=1
done
rm -rf "$results"
bash scripts/leftovers.sh after "$state" "$run_id" "$test_tmp" || rc=1
rm -f "$state"
echo "test.sh: wall time $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"

succeeded=$(grep -Eo 'succeeded: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
failed=$(grep -Eo 'failed: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
skipped=$(grep -Eo 'skipped: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
rm -f "$log"
echo "${succeeded:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "$rc" -eq 0 ] && [ "${succeeded:-0}" -eq 0 ]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit "$rc"
