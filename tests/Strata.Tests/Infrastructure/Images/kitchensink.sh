#!/usr/bin/env bash
# Builds the "kitchensink" sample image: three layers holding every kind of tar entry, mode, owner,
# xattr and layer change an image engine must get right. umoci computes each layer's diff (and so
# writes the whiteouts itself), which is the point: the fixture is what a real peer tool produces.
# Layer 3 comes from GNU tar (see there). Usage: kitchensink.sh LAYOUT TAG WORKDIR. Needs root (mknod, chown). Run by SampleImages.
set -euo pipefail
layout=$1 tag=$2 work=$3
ref=$layout:$tag
long=$(printf 'n%.0s' {1..196}).txt   # a 200-character name (the ustar name field holds 100)

umoci init --layout "$layout"
umoci new --image "$ref"
umoci unpack --image "$ref" "$work/b1" >/dev/null
r=$work/b1/rootfs

# ---- layer 1: every entry kind ----
mkdir -p "$r"/{files,links,special,modes,owners,xattr,names,sparse,time,l2}
: >"$r/files/empty"
printf x >"$r/files/one-byte"
head -c 1048576 /dev/urandom >"$r/files/random-1m"

echo pair >"$r/links/hard-a";   ln "$r/links/hard-a" "$r/links/hard-b"
echo triple >"$r/links/tri-1"; ln "$r/links/tri-1" "$r/links/tri-2"; ln "$r/links/tri-1" "$r/links/tri-3"
ln -s ../files/one-byte "$r/links/relative"
ln -s /files/one-byte "$r/links/absolute"
ln -s /does/not/exist "$r/links/dangling"

mkfifo "$r/special/fifo"
mknod "$r/special/null" c 1 3
mknod "$r/special/loop200" b 7 200

echo suid >"$r/modes/suid-file"; chmod 4755 "$r/modes/suid-file"
mkdir "$r/modes/sgid-dir";        chmod 2755 "$r/modes/sgid-dir"
mkdir "$r/modes/sticky-dir";      chmod 1777 "$r/modes/sticky-dir"
echo private >"$r/modes/private"; chmod 0600 "$r/modes/private"
echo none >"$r/modes/none-file";  chmod 0000 "$r/modes/none-file"
mkdir "$r/modes/none-dir";        chmod 0000 "$r/modes/none-dir"

mkdir "$r/owners/dir-1000"; echo u >"$r/owners/dir-1000/file"
chown -R 1000:1000 "$r/owners/dir-1000"
echo big >"$r/owners/big-uid"; chown 3000000:3000000 "$r/owners/big-uid"

echo xattr >"$r/xattr/binary"
setfattr -n user.bin -v 0xff00fe80 "$r/xattr/binary"
setfattr -n user.text -v hello "$r/xattr/binary"
if command -v setcap >/dev/null; then
  echo cap >"$r/xattr/capability"; chmod 0755 "$r/xattr/capability"
  setcap cap_net_raw+ep "$r/xattr/capability"
fi

echo long >"$r/names/$long"
echo unicode >"$r/names/caf$(printf '\xc3\xa9')-$(printf '\xe6\x97\xa5\xe6\x9c\xac').txt"

truncate -s 64M "$r/sparse/sparse"
head -c 4096 /dev/urandom | dd of="$r/sparse/sparse" bs=4096 seek=8192 conv=notrunc status=none

# Targets of layer 2's changes.
echo original >"$r/l2/modify.txt"
echo doomed >"$r/l2/delete-me.txt"
mkdir -p "$r/l2/tree/a/b"; echo deep >"$r/l2/tree/a/b/c.txt"; echo top >"$r/l2/tree/top.txt"
mkdir -p "$r/l2/opaque/sub"; echo old1 >"$r/l2/opaque/old1"; echo old2 >"$r/l2/opaque/sub/old2"
echo file >"$r/l2/file-to-dir"
ln -s modify.txt "$r/l2/link-to-file"

# Last, so nothing created afterwards moves them: a nanosecond mtime on a file and on its directory.
echo ns >"$r/time/ns"
touch -d '2020-01-02 03:04:05.123456789' "$r/time/ns" "$r/time"
umoci repack --refresh-bundle --image "$ref" "$work/b1"

# ---- layer 2: changes, whose whiteouts umoci writes ----
echo modified >"$r/l2/modify.txt"
rm "$r/l2/delete-me.txt"
rm -r "$r/l2/tree"
rm -r "$r/l2/opaque"; mkdir "$r/l2/opaque"; echo new >"$r/l2/opaque/new"
rm "$r/l2/file-to-dir"; mkdir "$r/l2/file-to-dir"; echo inside >"$r/l2/file-to-dir/inside"
rm "$r/l2/link-to-file"; echo now-a-file >"$r/l2/link-to-file"
umoci repack --refresh-bundle --image "$ref" "$work/b1"

# ---- layer 3: a config-only change (an empty_layer history entry), then one added layer ----
umoci config --image "$ref" --config.label org.strata.test.fixture=kitchensink --config.cmd /bin/sh
# umoci's own tar writer truncates mtimes to whole seconds (layer 1's time/ns loses its .123456789), so this
# layer is written by GNU tar in pax format, which keeps nanoseconds, and appended verbatim by umoci.
mkdir "$work/l3"
echo added >"$work/l3/added-in-layer-3.txt"
echo ns >"$work/l3/ns-mtime.txt"
touch -d '2020-01-02 03:04:05.123456789' "$work/l3/ns-mtime.txt"
tar --format=pax --pax-option=delete=atime,delete=ctime --numeric-owner --owner=0 --group=0 \
  -C "$work/l3" -cf "$work/l3.tar" added-in-layer-3.txt ns-mtime.txt
umoci raw add-layer --image "$ref" "$work/l3.tar"
umoci gc --layout "$layout"
