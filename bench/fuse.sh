#!/usr/bin/env bash
# FUSE union benchmark, one run, side by side on tmpfs: strata-overlay vs fuse-overlayfs (Debian's) vs the kernel's
# overlayfs, each mounting the same stack (lowerdir=L2:L1, a fresh upperdir and workdir). strata-overlay runs twice:
# as root gets it (the kernel's FUSE passthrough for file data), and with -o nopassthrough, every read and write
# served by the daemon, as a rootless mount is (the targets apply to the first):
#   L1  the Debian minbase rootfs (bench/make-debian-image.sh)
#   L2  /usr/share/man and /usr/lib/python3.11 of this machine, and a 1 GiB random file /data/big.bin
# Rows (every run on a fresh mount, so nothing is in the FUSE caches; the layers are in tmpfs, so this times the
# file systems, not a disk):
#   seq read    dd bs=1M of the 1 GiB file                       target: <= fuse-overlayfs, <= 1.2x the kernel
#   rand read   fio, 16,384 random 4 KiB preads of it            target: <= fuse-overlayfs
#   walk        find -printf with lstat of every entry (>= 20k)  target: <= fuse-overlayfs
#   untar       tar -xf of /usr/include (a source tree) into the merged directory   target: <= fuse-overlayfs
# and two warm rows, each timing its command a second time on a mount that has just run it once (the FUSE caches full):
#   warm walk   the walk again                                   target: <= fuse-overlayfs
#   warm read   cat of every file but /data's (~30k files) again target: <= fuse-overlayfs
# Usage: bench/fuse.sh [RUNS] [ROWS]   (ROWS: a pattern to run only the rows whose name matches, e.g. 'walk|untar')
runs=${1:-5}
only=${2:-.}
source "$(dirname "$0")/lib.sh" fuse
command -v fio >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fio >/dev/null
kinds=(strata strata-nopassthrough fuse-overlayfs kernel)
unmount_all() { for k in "${kinds[@]}"; do umount -l "$work/$k/merged" 2>/dev/null || true; done; }
trap 'unmount_all; rm -rf "$work"' EXIT

# The stack.
id=$("$strata" --root "$work/store" load -q -i "$cache/oci" | head -1)
"$strata" --root "$work/store" unpack "$id" "$work/L1" >/dev/null
mkdir -p "$work/L2/usr/share" "$work/L2/usr/lib" "$work/L2/data"
cp -a /usr/share/man "$work/L2/usr/share/"
cp -a /usr/lib/python3.11 "$work/L2/usr/lib/"
head -c 1G /dev/urandom > "$work/L2/data/big.bin"
tar -cf "$work/src.tar" -C /usr include
rm -rf "$work/store"
echo "stack: $(find "$work/L1" "$work/L2" | wc -l) entries in 2 layers; untar source: $(tar -tf "$work/src.tar" | wc -l) entries, $(du -h "$work/src.tar" | cut -f1)"

# remount KIND: a fresh mount of the stack with an empty upper layer.
cat > "$work/remount" <<EOF
#!/usr/bin/env bash
set -e
d=$work/\$1
umount -l \$d/merged 2>/dev/null || true
rm -rf \$d; mkdir -p \$d/upper \$d/work \$d/merged
o=lowerdir=$work/L2:$work/L1,upperdir=\$d/upper,workdir=\$d/work
case \$1 in
  strata) $strata-overlay -o \$o \$d/merged ;;
  strata-nopassthrough) $strata-overlay -o \$o,nopassthrough \$d/merged ;;
  fuse-overlayfs) fuse-overlayfs -o \$o \$d/merged ;;
  kernel) mount -t overlay overlay -o \$o \$d/merged ;;
esac
EOF
chmod +x "$work/remount"
for k in "${kinds[@]}"; do "$work/remount" "$k"; done
for k in "${kinds[@]}"; do
  [ "$(find "$work/$k/merged" | wc -l)" = "$(find "$work/kernel/merged" | wc -l)" ] || { echo "fuse bench: $k shows a different tree" >&2; exit 1; }
done

row() { # NAME COMMAND-WITH-@ (replaced by the merged directory of each kind) [warm: run the command once after the remount]
  local name=$1 cmd=$2 warm=${3:-} args=()
  [[ $name =~ $only ]] || return 0
  for k in "${kinds[@]}"; do args+=(-n "$k" "${cmd//@/$work/$k/merged}"); done
  # hyperfine gives --prepare once per command, in order: the same remount for each.
  local prep=()
  for k in "${kinds[@]}"; do prep+=(--prepare "$work/remount $k${warm:+ && ${cmd//@/$work/$k/merged}}"); done
  hyperfine --style none --runs "$runs" --export-json "$work/${name//[^a-z0-9]/-}.json" "${prep[@]}" "${args[@]}" >/dev/null
  jq -r --arg row "$name" '.results | (map({(.command): .median}) | add) as $m
    | "\($row)\t\($m.strata * 1000 | round) ms\t\($m["fuse-overlayfs"] * 1000 | round) ms\t\($m.kernel * 1000 | round) ms\t\($m.strata / $m["fuse-overlayfs"] * 100 | round / 100)x\t\($m.strata / $m.kernel * 100 | round / 100)x\t\($m["strata-nopassthrough"] * 1000 | round) ms\t\($m["strata-nopassthrough"] / $m["fuse-overlayfs"] * 100 | round / 100)x"' "$work/${name//[^a-z0-9]/-}.json"
}

printf 'row\tstrata-overlay\tfuse-overlayfs\tkernel\tstrata/fuse-overlayfs\tstrata/kernel\tstrata nopassthrough\tits /fuse-overlayfs\n'
row "seq read 1 GiB" "dd if=@/data/big.bin of=/dev/null bs=1M status=none"
row "rand read 4 KiB x16384" "fio --name=r --filename=@/data/big.bin --rw=randread --bs=4k --io_size=64m --ioengine=psync --randrepeat=1 --norandommap --invalidate=1 --output=/dev/null"
printf '#!/bin/sh\nfind "$1" -printf "%%p %%s %%m %%U %%T@ %%l\\n" | wc -l >/dev/null\n' > "$work/walk"; chmod +x "$work/walk"
row "walk (find + lstat)" "$work/walk @"
row "warm walk (find + lstat)" "$work/walk @" warm
printf '#!/bin/sh\nfind "$1" -path "$1/data" -prune -o -type f -print0 | xargs -0 cat >/dev/null\n' > "$work/readall"; chmod +x "$work/readall"
row "warm read (every file)" "$work/readall @" warm
row "untar /usr/include" "tar -xf $work/src.tar -C @/usr/src"
