#!/usr/bin/env bash
# Garbage collection in proportion to what it frees (issue 12): rmi of one image (its blob, config, manifest and
# unpacked layer) in a store of 10 small images and in one of 1,000, strata and podman side by side on tmpfs.
# Target: strata's rmi in the 1,000-image store within 2x of its rmi in the 10-image store.
# Usage: bench/gc.sh [RUNS] [IMAGES]
runs=${1:-10}
images=${2:-1000}
source "$(dirname "$0")/lib.sh" gc
P=(--root "$work/podman" --runroot "$work/podman-run" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
trap 'podman "${P[@]}" rmi -af >/dev/null 2>&1 || true; { grep -o " $work[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# A docker-archive of COUNT one-layer images tagged NAME:1..COUNT, each layer one small file of its own.
archive() {
  python3 - "$1" "$2" "$3" <<'PY'
import hashlib, io, json, sys, tarfile
out, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
def add(tar, path, data):
    info = tarfile.TarInfo(path); info.size = len(data); info.mtime = 0
    tar.addfile(info, io.BytesIO(data))
entries = []
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as archive:
    for i in range(1, count + 1):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as layer:
            add(layer, "image-id", f"{name}:{i}\n".encode())
        layer_bytes = buf.getvalue()
        diff_id = hashlib.sha256(layer_bytes).hexdigest()
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/image-id"]},
                             "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}}).encode()
        config_id = hashlib.sha256(config).hexdigest()
        add(archive, f"{diff_id}/layer.tar", layer_bytes)
        add(archive, f"{config_id}.json", config)
        entries.append({"Config": f"{config_id}.json", "RepoTags": [f"{name}:{i}"], "Layers": [f"{diff_id}/layer.tar"]})
    add(archive, "manifest.json", json.dumps(entries).encode())
PY
}
archive "$work/few.tar" localhost/bench/few 10
archive "$work/many.tar" localhost/bench/many "$images"
archive "$work/victim.tar" localhost/bench/victim 1
for n in few many; do
  "$strata" --root "$work/strata-$n" load -q -i "$work/$n.tar" >/dev/null
  podman "${P[@]/$work\/podman/$work/podman-$n}" load -q -i "$work/$n.tar" >/dev/null
done
echo "stores: $("$strata" --root "$work/strata-many" images -q | wc -l) and $("$strata" --root "$work/strata-few" images -q | wc -l) images"

# Each run removes a freshly loaded image whose layer a container has unpacked (podman's load unpacks it).
prepare() { echo "$strata --root $work/strata-$1 load -q -i $work/victim.tar && $strata --root $work/strata-$1 rm \$($strata --root $work/strata-$1 create localhost/bench/victim:1)"; }
pprepare() { echo "podman ${P[*]/$work\/podman/$work/podman-$1} load -q -i $work/victim.tar"; }
hyperfine --style basic --runs "$runs" --export-json "$work/gc.json" \
  --prepare "bash -c '$(prepare few) >/dev/null'" -n "strata rmi, 10 images" "$strata --root $work/strata-few rmi localhost/bench/victim:1" \
  --prepare "bash -c '$(prepare many) >/dev/null'" -n "strata rmi, $images images" "$strata --root $work/strata-many rmi localhost/bench/victim:1" \
  --prepare "bash -c '$(pprepare few) >/dev/null'" -n "podman rmi, 10 images" "podman ${P[*]/$work\/podman/$work/podman-few} rmi localhost/bench/victim:1" \
  --prepare "bash -c '$(pprepare many) >/dev/null'" -n "podman rmi, $images images" "podman ${P[*]/$work\/podman/$work/podman-many} rmi localhost/bench/victim:1"
jq -r --arg n "$images" '.results | (map({(.command): .median}) | add) as $m
  | "strata rmi, \($n) / 10 images: \($m["strata rmi, \($n) images"] / $m["strata rmi, 10 images"] * 100 | round / 100)x (target <= 2)",
    "podman rmi, \($n) / 10 images: \($m["podman rmi, \($n) images"] / $m["podman rmi, 10 images"] * 100 | round / 100)x",
    "strata / podman, \($n) images: \($m["strata rmi, \($n) images"] / $m["podman rmi, \($n) images"] * 100 | round / 100)x"' "$work/gc.json"
