#!/usr/bin/env bash
# Strata's main job end to end on an embedded default: a busybox rootfs built from this machine's
# busybox-static becomes an image in the default store; it is inspected, saved in the three formats,
# checked by skopeo and umoci, loaded back and unpacked, and the unpacked rootfs is compared with umoci's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
strata="$PWD/artifacts/bin/strata"
root="${STRATA_ROOT:-/var/lib/strata}"  # strata reads STRATA_ROOT itself
work=$(mktemp -d /tmp/strata-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "a sample rootfs from busybox-static"
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,root}
cp /bin/busybox "$rootfs/bin/busybox"
for app in $("$rootfs/bin/busybox" --list); do [ "$app" = busybox ] || ln -sf busybox "$rootfs/bin/$app"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
echo "$(find "$rootfs" | wc -l) entries"

step "strata import (store root: $root)"
# Idempotent: what an earlier run left goes first; SOURCE_DATE_EPOCH makes the image ID the same every run.
"$strata" rm -f demo-box >/dev/null 2>&1 || true
"$strata" rmi -f strata-demo/busybox:changed strata-demo/busybox:latest >/dev/null 2>&1 || true
SOURCE_DATE_EPOCH=1700000000 "$strata" import -m "busybox from this machine" "$rootfs" strata-demo/busybox:latest
"$strata" images
"$strata" history strata-demo/busybox
"$strata" inspect strata-demo/busybox | head -n 20

step "strata save: docker-archive, oci-archive, oci-dir"
"$strata" save -o "$work/busybox-docker.tar" strata-demo/busybox
"$strata" save --format oci-archive -o "$work/busybox-oci.tar" strata-demo/busybox
"$strata" save --format oci-dir -o "$work/layout" strata-demo/busybox
ls -l "$work"

step "the peers read what strata wrote"
skopeo inspect "docker-archive:$work/busybox-docker.tar" | head -n 8
skopeo inspect --raw "oci:$work/layout:docker.io/strata-demo/busybox:latest" | head -c 300; echo
(cd "$work" && umoci unpack --image "layout:docker.io/strata-demo/busybox:latest" bundle >/dev/null) && echo "umoci unpack: ok"

step "load back, unpack, compare with umoci's rootfs"
"$strata" rmi strata-demo/busybox
"$strata" load -i "$work/busybox-oci.tar"
"$strata" unpack strata-demo/busybox "$work/unpacked"
diff -r --no-dereference "$work/bundle/rootfs" "$work/unpacked" && echo "strata unpack == umoci unpack"

step "a container: thin writable layer, copy-on-write, diff, commit"
"$strata" create --name demo-box strata-demo/busybox
merged=$("$strata" mount demo-box)
echo "mounted at $merged"
echo "hello from a container" > "$merged/etc/motd"
rm "$merged/etc/group"
"$strata" umount demo-box >/dev/null
"$strata" diff demo-box
"$strata" commit -m "demo change" demo-box strata-demo/busybox:changed
"$strata" history strata-demo/busybox:changed
"$strata" df -v
"$strata" rm demo-box >/dev/null
echo
echo "demo: ok"
