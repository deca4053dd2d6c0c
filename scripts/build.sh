#!/usr/bin/env bash
# Publishes the strata command NativeAOT into artifacts/bin/strata (skipped when nothing changed), one file to copy
# onto a machine (strata.dbg beside it holds only its debug symbols), and
# artifacts/bin/strata-overlay, the same binary under fuse-overlayfs's interface (it acts on the name it is run by).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=artifacts/bin/strata
case "$(uname -m)" in aarch64) rid=linux-arm64 ;; *) rid=linux-x64 ;; esac
if ! [ -x "$bin" ] || [ -n "$(find src Directory.Build.props Directory.Packages.props -newer "$bin" -type f -print -quit)" ]; then
  dotnet publish src/Strata.Cli -c Release -r "$rid" -o artifacts/bin --nologo -v quiet >&2
fi
# strata links SQLite statically: a libe_sqlite3.so left by an older build would only hide a regression.
rm -f artifacts/bin/libe_sqlite3.so
ln -sfn strata artifacts/bin/strata-overlay
