#!/usr/bin/env bash
# Digest benchmark, one run: Strata's verify-on-read SHA-256 path over a 1 GiB page-cached blob vs
# `openssl dgst -sha256` of the same file, and vs the CPU's limit as `openssl speed -evp sha256` reports it
# (Debian's sha256sum lacks SHA-NI and is no anchor). Target: strata within 1.2x of OpenSSL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
work=/dev/shm/strata-bench-digest
mkdir -p "$work"; trap 'rm -rf "$work"' EXIT
head -c 1G /dev/urandom > "$work/blob"
cat "$work/blob" > /dev/null
speed=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256|^SHA256/ {v=$NF} END {sub(/k$/,"",v); print v*1000/1e6}')
echo "openssl speed -evp sha256 (16 KiB blocks): ${speed} MB/s"
dgst=$(hyperfine --style none --runs 5 --warmup 1 --export-json "$work/r.json" "openssl dgst -sha256 $work/blob" >/dev/null && jq '1073741824 / .results[0].median / 1e6 | floor' "$work/r.json")
echo "openssl dgst -sha256 of the file: ${dgst} MB/s"
dotnet run -c Release --project bench/Strata.Bench -- digest "$work/blob" --report "$speed"
