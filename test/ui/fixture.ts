// The snapshot most rendering tests draw: four containers with known values
// (one near its memory limit and throttled, one near its pids limit), a
// systemd unit, and the root cgroup (which the flat view leaves out).

import { container, MiB, snapshot } from '../helpers/snapshot.js';

export function fourContainers(monotonicSeconds = 100) {
  return snapshot(
    [
      container({ id: '/', runtime: 'cgroup', cpuPercent: 190, memLimitBytes: null, inode: 1 }),
      container({
        id: '/docker/web',
        name: 'web-1',
        cpuPercent: 150,
        quotaCores: 2,
        memBytes: 200 * MiB,
        ioReadBps: MiB,
        ioWriteBps: 2 * MiB,
        netRxBps: 3072,
        netTxBps: 4096,
        netInode: 4026532500,
        pids: 12,
        pidsLimit: 100,
        psiMem: 0.5,
        inode: 2,
      }),
      container({ id: '/docker/db', name: 'db', cpuPercent: 20, memBytes: 480 * MiB, throttledPercent: 30, inode: 3 }),
      container({
        id: '/docker/cache',
        name: 'cache',
        cpuPercent: 5,
        memBytes: 50 * MiB,
        memLimitBytes: null,
        pids: 95,
        pidsLimit: 100,
        inode: 4,
      }),
      container({
        id: '/system.slice/cron.service',
        name: 'cron.service',
        runtime: 'systemd',
        cpuPercent: 0.5,
        memBytes: 5 * MiB,
        memLimitBytes: null,
        inode: 5,
      }),
    ],
    monotonicSeconds,
  );
}
