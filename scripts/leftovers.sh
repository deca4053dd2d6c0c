#!/usr/bin/env bash
# What a test run left behind (issue 12, part 7), for scripts/test.sh:
#   leftovers.sh before STATE            notes the runtime directories, mounts and test-user processes there already
#   leftovers.sh after STATE RUN_ID TMP  prints one line per process, mount or runtime directory the run left, takes
#                                        each away (so the next run starts clean), and exits 1 if there was any
# A process of the run is told by STRATA_TEST_RUN=RUN_ID in its environment (test.sh sets it for the test host, and
# every child inherits it: registries, strata-overlay daemons, rootless podman's pause process), or by belonging to
# strata-rootless, a user only the tests use. TMP is the run's own TempDir root (STRATA_TEST_TMP).
set -uo pipefail

rootless_uid=$(id -u strata-rootless 2>/dev/null || echo none)

# Runtime directories (/run/user/UID, rootless podman's run roots in /tmp and its lock files in /dev/shm), mounts
# there, strata-rootless's processes.
state() {
  ls -d /run/user/* /tmp/strata-rl.* /tmp/containers-user-* /tmp/podman-run-* /dev/shm/libpod_rootless_lock_* 2>/dev/null | sed 's/^/dir /'
  # On CI the machine is the run's alone: any new mount is the run's. Elsewhere other runs may mount in /tmp too.
  local where='^(/run/user/|/tmp/strata-rl\.|/tmp/containers-user-|/tmp/podman-run-)'
  [ "${CI:-}" = true ] && where='.'
  # (Not /sys and /proc: a kernel module loaded on first use may bring its own, fusectl say; nor other runs' temp
  # roots: this run's own is checked apart.)
  awk '{print $5}' /proc/self/mountinfo | grep -E "$where" | grep -vE '^(/(sys|proc)(/|$)|(/dev/shm|/tmp)/strata-(tests|r-))' | sed 's/^/mount /'
  if [ "$rootless_uid" != none ]; then pgrep -u "$rootless_uid" | sed 's/^/pid /'; fi
}

# PIDs of the run's processes still alive (not this script's own).
run_pids() {
  grep -lsxzF "STRATA_TEST_RUN=$1" /proc/[0-9]*/environ | cut -d/ -f3 | grep -vx "$$"
  if [ "$rootless_uid" != none ]; then pgrep -u "$rootless_uid"; fi
}

case "${1:-}" in
before)
  state | sort > "$2"
  exit 0
  ;;
after)
  before=$2 run=$3 tmp=$4
  # A daemon may still be exiting just after the test host did (a strata-overlay removing its empty log): a moment.
  for _ in $(seq 50); do [ -z "$(run_pids "$run" | sort -u | grep -vxF -f <(sed -n 's/^pid //p' "$before"))" ] && break; sleep 0.2; done
  lines=()
  while read -r pid; do
    [ -n "$pid" ] || continue
    lines+=("process $pid (user $(stat -c %U "/proc/$pid" 2>/dev/null)): $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)")
    kill -9 "$pid" 2>/dev/null
  done < <(run_pids "$run" | sort -u | grep -vxF -f <(sed -n 's/^pid //p' "$before"))
  new_mounts=$( { comm -13 "$before" <(state | sort) | sed -n 's/^mount //p'; awk '{print $5}' /proc/self/mountinfo | grep -F "$tmp/"; } | sort -u)
  while read -r m; do
    [ -n "$m" ] || continue
    lines+=("mount $m")
    umount -l "$m" 2>/dev/null
  done <<< "$(sort -r <<< "$new_mounts")"
  while read -r d; do
    [ -n "$d" ] || continue
    lines+=("runtime directory $d")
    rm -rf --one-file-system "$d" 2>/dev/null
  done < <(comm -13 "$before" <(state | sort) | sed -n 's/^dir //p')
  [ -d "$tmp" ] && rm -rf --one-file-system "$tmp"
  if [ ${#lines[@]} -gt 0 ]; then
    echo "test.sh: the tests left ${#lines[@]} thing(s) behind (now taken away):" >&2
    printf '  %s\n' "${lines[@]}" >&2
    exit 1
  fi
  ;;
*)
  echo "usage: leftovers.sh before STATE | after STATE RUN_ID TMP" >&2
  exit 2
  ;;
esac
