#!/usr/bin/env bash
# Strata's main job end to end on an embedded default: a busybox rootfs built from this machine's
# busybox-static becomes an image in the default store; it is inspected, saved in the three formats,
# checked by skopeo and umoci, loaded back and unpacked, and the unpacked rootfs is compared with umoci's;
# then a container changes it, is committed, pushed to a local registry and pulled into a second store.
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

step "a registry: push, pull into a second store, read by skopeo (Debian's docker-registry on 127.0.0.1)"
port=$(shuf -i 20000-60000 -n 1)
printf 'version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s}\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" > "$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
"$strata" push strata-demo/busybox:changed "127.0.0.1:$port/demo/busybox:changed"
"$strata" --root "$work/second-store" pull "127.0.0.1:$port/demo/busybox:changed"
"$strata" inspect --remote "127.0.0.1:$port/demo/busybox:changed" | head -n 6
skopeo inspect --tls-verify=false "docker://127.0.0.1:$port/demo/busybox:changed" | jq -r '"skopeo sees " + .Digest + ", " + (.Layers | length | tostring) + " layers"'
echo
echo "demo: ok"
