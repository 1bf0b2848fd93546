#!/usr/bin/env bash
# run-v2-lane.sh - `npm run test:v2`: the kernel-facing integration tests
# (vitest.v2.config.ts) inside a pure cgroup v2 QEMU guest.
#
#   usage: test/vm/run-v2-lane.sh [vitest args...]   e.g. a test file to run alone
#
# Exit status: vitest's; 124 timeout; 125 the lane could not start (one line
# says why: it never skips silently). Settings: test/vm/common.sh.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
cd "$V2VM_REPO"

# node and node_modules come from the host (over 9p): check before booting
command -v node > /dev/null || lane_fail "node is not installed on the host"
[ -f node_modules/vitest/vitest.mjs ] || lane_fail "node_modules/vitest missing: run npm ci first"

# vitest directly, not `npx vitest`: npx alone costs ~9 s in the guest
# (npm loads and checks the dependency tree over 9p under emulation).
start=$SECONDS
rc=0
"$V2VM_DIR/run-in-guest.sh" -- node node_modules/vitest/vitest.mjs run --config vitest.v2.config.ts "$@" || rc=$?
echo "tstop-v2-lane: finished in $((SECONDS - start))s, exit status $rc" >&2
exit "$rc"
