#!/usr/bin/env bash
# Publishes the strata command NativeAOT into artifacts/bin/strata (skipped when nothing changed), and
# artifacts/bin/strata-overlay, the same binary under fuse-overlayfs's interface (it acts on the name it is run by).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=artifacts/bin/strata
if ! [ -x "$bin" ] || [ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$bin" -type f -print -quit)" ]; then
  dotnet publish src/Strata.Cli -c Release -r linux-x64 -o artifacts/bin --nologo -v quiet >&2
fi
ln -sfn strata artifacts/bin/strata-overlay
