#!/usr/bin/env bash
# Installs what Strata's build, tests, demo and benchmarks need on Debian 12. Idempotent: a second run
# installs nothing. Needs root (or sudo) for apt.
set -euo pipefail

packages=(
  # build: NativeAOT links with clang; strata links SQLite statically (libsqlite3.a)
  clang lld zlib1g-dev libsqlite3-dev
  # peers and fixtures the tests drive
  skopeo umoci podman buildah docker-registry runc fuse3 libfuse3-dev fuse-overlayfs
  busybox-static zstd pigz attr libarchive-tools apache2-utils squashfs-tools
  xz-utils bzip2 lz4 python3  # compressions import must refuse; the uudecode test's encoder
  libcap2-bin  # setcap: the kitchensink sample image carries a security.capability xattr
  # benchmarks
  hyperfine openssl jq time debootstrap  # bench/
)
# LibcConstantsOtherArchitectureTests: the other supported architecture's C headers (packages for any machine).
case "$(dpkg --print-architecture)" in
  amd64) packages+=(libc6-dev-arm64-cross) ;;
  arm64) packages+=(libc6-dev-amd64-cross) ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Package scripts enable services; Strata's tests start their own, bound to loopback.
  $sudo systemctl disable docker-registry.service podman.service podman.socket >/dev/null 2>&1 || true
fi

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

# Rootless FUSE: fusermount3 opens /dev/fuse as the calling user. Debian's udev makes it 0666; machines without
# udev (containers, minimal VMs) leave the kernel's 0600.
if [ -c /dev/fuse ] && [ "$(stat -c %a /dev/fuse)" != 666 ] && [ "$(id -u)" -eq 0 ]; then chmod 0666 /dev/fuse; fi

# Rootless podman (the tests run it with strata-overlay and fuse-overlayfs as mount programs): a user with subordinate
# IDs wide enough for images that use uid 3000000 (useradd's own range is 65536 wide).
if [ "$(id -u)" -eq 0 ]; then
  # (A group left by a removed user is taken over: useradd refuses to make one of the same name.)
  id strata-rootless >/dev/null 2>&1 || useradd --create-home --shell /bin/sh \
    $(getent group strata-rootless >/dev/null && echo --gid strata-rootless) strata-rootless
  for f in /etc/subuid /etc/subgid; do
    grep -qx 'strata-rootless:100000:5000000' "$f" 2>/dev/null || { sed -i '/^strata-rootless:/d' "$f" 2>/dev/null; echo 'strata-rootless:100000:5000000' >> "$f"; }
  done
fi
