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
TSTOP_V2VM_TIMEOUT=${TSTOP_V2VM_TIMEOUT:-900} npm run --silent test:v2 || rc=$?
case $rc in
  0) ;;
  124) echo "v2-lane: FAILED: timed out (see the tstop-v2-lane line above)" >&2;;
  125) echo "v2-lane: FAILED: the lane could not run (see the tstop-v2-lane line above)" >&2;;
  *) echo "v2-lane: FAILED: tests failed in the v2 guest (exit $rc)" >&2;;
esac
exit "$rc"
