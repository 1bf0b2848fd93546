#!/usr/bin/env bash
# .ci/v2-lane.sh - CI step for the cgroup v2 test lane; .ci/run calls it
# after `npm ci`. Installs what the lane needs (qemu-system-x86 without
# recommends; Debian's current kernel + busybox-static, downloaded and
# unpacked, not installed; cached in /var/cache/tstop-v2vm) and runs
# `npm run test:v2`. If the lane cannot start it fails with one line saying
# why (exit 125): it never skips.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

bash test/vm/setup-assets.sh
rc=0
# The guest's time limit is a hang guard, not a budget: under TCG the lane's time follows the host's
# speed. 590 s on the host of 2026-12-07; on the host of 2026-12-08 (a node busy loop 4.6 s against
# 1.3 s, the guest's boot 6-7 s against 2-2.6 s) half the files had run after 900 s.
TSTOP_V2VM_TIMEOUT=${TSTOP_V2VM_TIMEOUT:-2400} npm run --silent test:v2 || rc=$?
case $rc in
  0) ;;
  124) echo "v2-lane: FAILED: timed out (see the tstop-v2-lane line above)" >&2;;
  125) echo "v2-lane: FAILED: the lane could not run (see the tstop-v2-lane line above)" >&2;;
  *) echo "v2-lane: FAILED: tests failed in the v2 guest (exit $rc)" >&2;;
esac
exit "$rc"
