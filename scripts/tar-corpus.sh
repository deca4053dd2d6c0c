#!/usr/bin/env bash
# Compares Strata's tar reading with bsdtar's on libarchive's own test archives (the *.uu files under libarchive/test,
# tar/test and cpio/test of a libarchive source tree). No Debian package ships them, so CI cannot run this; run it
# where a libarchive source tree is at hand. The hand-made archives for each defect found this way run in every CI.
# Usage: scripts/tar-corpus.sh DIR   (DIR: a libarchive source tree, or any directory holding its *.uu files)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && [ -d "$1" ] || { echo "usage: $0 LIBARCHIVE_SOURCE_DIR" >&2; exit 2; }
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
find "$1" -name '*.uu' -exec cp -t "$corpus" {} +
bash scripts/setup.sh >/dev/null
dotnet build tests/Strata.Tests -c Release --nologo -v quiet >&2
STRATA_TAR_CORPUS="$corpus" dotnet test --project tests/Strata.Tests -c Release --no-build -- \
  --filter-class Strata.Tests.Archive.TarCorpusTests --filter-trait "Corpus=libarchive"
