// vitest config for the cgroup v2 lane (`npm run test:v2`): runs inside the
// QEMU guest of test/vm/run-v2-lane.sh, where JS is 5-7x and fork/syscalls
// 20-25x slower than on the host (TCG emulation).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The kernel-facing tests whose behaviour differs on cgroup v2 (the host
    // runs these same files too, and every other integration file): the
    // whole directory no longer fits the lane's budget under TCG.
    include: [
      'churn',
      'collect',
      'collect-gate', // the gate is cpu.stat on v2
      'collect-watch', // settings re-read on write events: v2 file names, the unified hierarchy's watches
      'export',
      'guard', // memory PSI per cgroup exists only with the v2 memory controller
      'lane',
      'launcher',
      'launch-exec-in-place', // the helper removes the cgroup itself: v2's CLONE_INTO_CGROUP and rmdir
      'launcher-devices', // the BPF device program exists only on v2
      'launcher-security',
      'launcher-volumes',
      'limit-bad-input',
      'limit-concurrent',
      'limit-crash',
      'limit',
      'limit-flags',
      'record', // the flight recorder's round trip, corruption and kill -9 rounds on v2 files
      'runtimes',
      'write-api',
    ].map((name) => `test/integration/${name}.test.ts`),
    globalSetup: ['test/global-setup.ts'],
    // The churn test runs 15 s here (30 s on the host): the lane has a 5-minute budget.
    env: { TSTOP_TEST_LANE: 'v2', TSTOP_CHURN_SECONDS: '15' },
    // generous: the guest is slow, and the lane's own watchdog bounds the run
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // One file at a time: the tests share one kernel and its root cgroup,
    // and the guest has only 2 vCPUs.
    fileParallelism: false,
    // One forked worker reused for every file (vitest 4's singleFork).
    // Starting a fresh worker per file (isolate: true) costs ~2.2 s per file
    // in the guest (11 files: 30 s instead of 9.7 s, docs/benchmarks.md), so
    // test files must clean up after themselves (cgroups, env, mocks).
    pool: 'forks',
    maxWorkers: 1,
    isolate: false,
  },
});
