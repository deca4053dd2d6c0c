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
# libarchive's tar corpus is no Debian package, so CI cannot have it: scripts/tar-corpus.sh runs that test alone.
# Arguments go to the test runner (for example --filter-class Strata.Tests.Cli.ContainerTests).
dotnet test --project tests/Strata.Tests -c Release -- --filter-not-trait "Corpus=libarchive" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

succeeded=$(grep -Eo 'succeeded: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
failed=$(grep -Eo 'failed: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
skipped=$(grep -Eo 'skipped: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
rm -f "$log"
echo "${succeeded:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "$rc" -eq 0 ] && [ "${succeeded:-0}" -eq 0 ]; then echo "test.sh: no test ran" >&2; exit 1; fi
exit "$rc"
