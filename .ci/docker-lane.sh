#!/usr/bin/env bash
# .ci/docker-lane.sh - CI step for the docker lane; .ci/run calls it after the
# host tests. tstop against a real Docker engine (docker.io from Debian's
# archive, installed by .ci/run): test/docker/global-setup.ts starts dockerd on
# its own socket, data root, exec root and pidfile under one temp dir (never
# /var/run/docker.sock or /var/lib/docker), imports a busybox-static image and
# the tests run real containers (vitest.docker.config.ts). docs/docker-lane.md.
#
# Exit 0: green. 125: the lane could not run (dockerd did not start, docker.io
# missing...), said in one line. Other: tests failed, or the engine left
# something behind. It never skips. After vitest, whatever the outcome, this
# script checks that the engine's temp dir, processes and mounts are gone and
# removes them if a crashed run left them (then fails).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

fail() { echo "docker-lane: FAILED: $*" >&2; exit 125; }

[ "$(id -u)" = 0 ] || fail "needs root (it starts dockerd)"
for cmd in dockerd docker containerd runc; do
  command -v "$cmd" >/dev/null || fail "$cmd not found (apt-get install docker.io)"
done
[ -f dist/src/cli/main.js ] || fail "dist/ not built (npm ci)"

state=$(mktemp /tmp/tstop-docker-lane.XXXXXX)
log=$(mktemp /tmp/tstop-docker-lane-log.XXXXXX)
export TSTOP_DOCKER_LANE_STATE="$state"

# Whatever the run left: processes mentioning the engine dir (dockerd, its
# containerd, shims), mounts below it, the dir itself. Only the engine's own.
sweep() {
  local dir leftovers=0 pid m f
  dir=$(cat "$state" 2>/dev/null || true)
  rm -f "$state" "$log"
  case "$dir" in /tmp/tstop-dk-*) ;; *) return 0;; esac
  # The containers' own processes first: killing their shims would orphan them.
  local ids=() id cg
  [ -d "$dir/data/containers" ] && mapfile -t ids < <(ls "$dir/data/containers")
  for id in "${ids[@]}"; do
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    for cg in /sys/fs/cgroup/*/docker/"$id"; do
      [ -d "$cg" ] || continue
      for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
        echo "docker-lane: leftover container process $pid in ${cg#/sys/fs/cgroup/}" >&2
        kill -KILL "$pid" 2>/dev/null || true
        leftovers=1
      done
    done
  done
  for f in /proc/[0-9]*/cmdline; do
    [[ $(tr '\0' ' ' 2>/dev/null < "$f") == *"$dir"* ]] || continue
    pid=${f#/proc/}; pid=${pid%/cmdline}
    echo "docker-lane: leftover process $pid: $(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | cut -c1-100)" >&2
    kill -KILL "$pid" 2>/dev/null || true
    leftovers=1
  done
  while read -r m; do
    echo "docker-lane: leftover mount $m" >&2
    umount -l "$m" || true
    leftovers=1
  done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r)
  sleep 1
  for id in "${ids[@]}"; do
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    for cg in /sys/fs/cgroup/*/docker/"$id"; do
      [ -d "$cg" ] || continue
      echo "docker-lane: leftover cgroup ${cg#/sys/fs/cgroup/}" >&2
      rmdir "$cg" || true
      leftovers=1
    done
  done
  for cg in /sys/fs/cgroup/*/docker; do
    [ -d "$cg" ] || continue
    grep -qxF "$cg" <<<"$parents_before" || rmdir "$cg" 2>/dev/null || true
  done
  if [ -e "$dir" ]; then
    echo "docker-lane: leftover directory $dir" >&2
    rm -rf "$dir"
    leftovers=1
  fi
  return "$leftovers"
}

# The /docker cgroup parents that exist now: the sweep removes only the ones this run made.
parents_before=$(ls -d /sys/fs/cgroup/*/docker 2>/dev/null || true)

start=$(date +%s)
rc=0
timeout --kill-after=30 600 node node_modules/vitest/vitest.mjs run --config vitest.docker.config.ts 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
why=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -o 'docker-lane: dockerd cannot start: .*' | head -1 || true)
sweep || { [ "$rc" = 0 ] && rc=1; echo "docker-lane: FAILED: the engine left the above behind" >&2; }
echo "docker-lane: $(( $(date +%s) - start )) s" >&2
if [ -n "$why" ]; then echo "$why" >&2; exit 125; fi
case $rc in
  0) ;;
  124) echo "docker-lane: FAILED: timed out after 600 s" >&2;;
  *) echo "docker-lane: FAILED: tests failed (exit $rc)" >&2;;
esac
exit "$rc"
