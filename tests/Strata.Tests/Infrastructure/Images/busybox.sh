#!/usr/bin/env bash
# Builds the "busybox" sample image: one layer with busybox-static and its applet symlinks.
# Usage: busybox.sh LAYOUT TAG WORKDIR. Needs root (chroot). Run by SampleImages; the layout must not exist.
set -euo pipefail
layout=$1 tag=$2 work=$3
bundle=$work/bundle

umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
root=$bundle/rootfs

# --install -s does not create the directories it links into.
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/root" "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
# --install -s writes absolute symlinks (/bin/sh -> /bin/busybox ...) into bin, sbin, usr/bin, usr/sbin.
chroot "$root" /bin/busybox --install -s
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

umoci repack --image "$layout:$tag" "$bundle"
# One config call, so one history entry for all of it.
umoci config --image "$layout:$tag" --config.cmd /bin/sh \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.label org.strata.test.fixture=busybox
umoci gc --layout "$layout"
