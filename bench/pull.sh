#!/usr/bin/env bash
# Pull benchmark, one run, side by side against one local docker-registry (127.0.0.1, storage on tmpfs):
# strata pull vs podman pull vs skopeo copy + umoci unpack, of a real 4-layer image of about 140 MB gzip
# (bench/make-big-image.sh). Every run starts from an empty store on tmpfs. Prints medians and the ratios
# (target: strata <= 0.7x podman), then the bytes a second image sharing three layers moves, counted in the
# registry's access log. Usage: bench/pull.sh [RUNS]
runs=${1:-3}
source "$(dirname "$0")/lib.sh" pull
bash bench/make-big-image.sh "$cache"

port=$(shuf -i 20000-60000 -n 1)
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YAML
version: 0.1
log: {level: info, formatter: text}
storage:
  filesystem: {rootdirectory: $work/registry/data}
http:
  addr: 127.0.0.1:$port
YAML
/usr/bin/docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; umount -R "$work"/p/overlay 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
host=127.0.0.1:$port
for t in big1 big2; do skopeo copy -q --dest-tls-verify=false "oci:$cache/big:$t" "docker://$host/bench/$t:latest"; done
ref=$host/bench/big1:latest
gz=$(skopeo inspect --raw --tls-verify=false "docker://$ref" | jq '[.layers[].size] | add')
echo "image: $ref, $(skopeo inspect --raw --tls-verify=false "docker://$ref" | jq '.layers | length') layers, $((gz / 1000000)) MB compressed"

podman_args=(--root "$work/p" --runroot "$work/pr" --storage-driver overlay)
hyperfine --style basic --runs "$runs" --export-json "$work/result.json" \
  --prepare "rm -rf $work/s $work/o $work/b; podman ${podman_args[*]} rmi -a -f >/dev/null 2>&1 || true; sync" \
  -n "strata pull" "$strata --root $work/s pull -q $ref" \
  -n "podman pull" "podman ${podman_args[*]} pull -q --tls-verify=false $ref" \
  -n "skopeo copy + umoci unpack" "skopeo copy -q --src-tls-verify=false docker://$ref oci:$work/o:x && umoci unpack --image $work/o:x $work/b"

jq -r '.results | (map({(.command): .median}) | add) as $m
  | "strata / podman:              \($m["strata pull"] / $m["podman pull"] * 100 | round / 100)x (target <= 0.7)",
    "strata / skopeo+umoci:        \($m["strata pull"] / $m["skopeo copy + umoci unpack"] * 100 | round / 100)x"' "$work/result.json"

# The second image shares three layers: only its new layer and config may cross the wire.
blob_bytes() { grep -E '"GET /v2/bench/[^ ]*/blobs/sha256:[0-9a-f]+ HTTP/1.1" 20[06] [0-9]+' -o "$work/registry/log" | awk '{s+=$NF} END {print s+0}'; }
rm -rf "$work/s"
"$strata" --root "$work/s" pull -q "$ref" >/dev/null
before=$(blob_bytes)
"$strata" --root "$work/s" pull -q "$host/bench/big2:latest" >/dev/null
moved=$(( $(blob_bytes) - before ))
new=$(skopeo inspect --raw --tls-verify=false "docker://$host/bench/big2:latest" | jq '.layers[-1].size + .config.size')
echo "second image: $moved bytes moved; its new layer + config: $new bytes"
[ "$moved" -eq "$new" ] && echo "second image moves only its new layer: yes" || echo "second image moves only its new layer: NO"
/usr/bin/time -f "strata pull peak RSS: %M KiB" "$strata" --root "$work/s2" pull -q "$ref" >/dev/null
