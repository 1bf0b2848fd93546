// Once per vitest run: build the test workload and sweep test cgroups that
// crashed test processes left behind (only those whose process is gone).

import { buildTestload } from './helpers/testload.js';
import { removeStaleTestCgroups } from './helpers/cgroups.js';

export async function setup(): Promise<void> {
  buildTestload();
  if (process.getuid?.() === 0) await removeStaleTestCgroups();
}

export async function teardown(): Promise<void> {
  if (process.getuid?.() === 0) await removeStaleTestCgroups();
}
