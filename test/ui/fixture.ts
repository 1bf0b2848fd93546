// The snapshot most rendering tests draw: four containers with known values
// (one near its memory limit and throttled, one near its pids limit), a
// systemd unit, and the root cgroup (which the flat view leaves out).

import type { ContainerSnapshot, HostInfo, Snapshot } from '../../src/model/types.js';
import { MiB, sampleContainer as container, sampleSnapshot } from '../../src/model/samples.js';

/** The dashboard tests' host: a hybrid 4-CPU node under some pressure. */
const DASHBOARD_HOST: Partial<HostInfo> = {
  hostname: 'node-7',
  kernel: '6.18.0-test',
  cgroupMode: 'hybrid',
  cpus: 4,
  memoryAvailableBytes: 12 * 1024 * MiB,
  cpuPercent: 50,
  pressure: {
    cpu: { some: { avg10: 1.5, avg60: 1, avg300: 1, totalSeconds: 10 }, full: null },
    memory: { some: { avg10: 0.25, avg60: 0, avg300: 0, totalSeconds: 1 }, full: null },
    io: { some: { avg10: 3, avg60: 0, avg300: 0, totalSeconds: 1 }, full: null },
  },
  v2Controllers: [],
  machineId: null,
  bootId: null,
  network: null,
};

/** A snapshot as the dashboard's tests draw it (sampleSnapshot on DASHBOARD_HOST). */
export function snapshot(
  containers: ContainerSnapshot[],
  monotonicSeconds = 100,
  hostOverrides: Partial<HostInfo> = {},
): Snapshot {
  return sampleSnapshot(containers, {
    monotonicSeconds,
    timestamp: '2026-01-02T03:04:05.000Z',
    host: { ...DASHBOARD_HOST, ...hostOverrides },
  });
}

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
