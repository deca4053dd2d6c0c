#!/usr/bin/env bash
# Publishes the strata command NativeAOT into artifacts/bin/strata (skipped when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=artifacts/bin/strata
if [ -x "$bin" ] && [ -z "$(find src Directory.Build.props Directory.Packages.props -newer "$bin" -type f -print -quit)" ]; then
  exit 0
fi
dotnet publish src/Strata.Cli -c Release -r linux-x64 -o artifacts/bin --nologo -v quiet >&2
