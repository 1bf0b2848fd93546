// Handcrafted snapshots for the dashboard's tests and benchmark: every field
// filled with plausible values, overridable per container.

import { NAMESPACE_TYPES, type ContainerSnapshot, type Namespaces, type Snapshot } from '../../src/model/types.js';
import { host } from './snapshots.js';

const MiB = 1024 * 1024;

export interface ContainerSpec {
  id: string;
  name?: string;
  runtime?: ContainerSnapshot['runtime'];
  cpuPercent?: number | null;
  quotaCores?: number | null;
  throttledPercent?: number | null;
  memBytes?: number | null;
  memLimitBytes?: number | null;
  ioReadBps?: number | null;
  ioWriteBps?: number | null;
  netRxBps?: number | null;
  netTxBps?: number | null;
  netInode?: number | null;
  pids?: number | null;
  pidsLimit?: number | null;
  psiMem?: number | null;
  oomKills?: number | null;
  processes?: number[];
  frozen?: boolean;
  inode?: number;
  /** Applied last: any other field. */
  patch?: (c: ContainerSnapshot) => void;
}

function namespaces(isolated: boolean, netInode: number | null): Namespaces {
  const ns = {} as Namespaces;
  NAMESPACE_TYPES.forEach((t, i) => {
    ns[t] = { inode: isolated ? 4026532000 + i : 4026531830 + i, isolated };
  });
  if (netInode !== null) ns.net = { inode: netInode, isolated: true };
  return ns;
}

let inodeCounter = 1000;

export function container(spec: ContainerSpec): ContainerSnapshot {
  const isContainer = (spec.runtime ?? 'docker') !== 'cgroup';
  const memLimit = spec.memLimitBytes === undefined ? 512 * MiB : spec.memLimitBytes;
  const quota = spec.quotaCores ?? null;
  const cpuPercent = spec.cpuPercent === undefined ? 10 : spec.cpuPercent;
  const processes = spec.processes ?? [100, 101];
  const c: ContainerSnapshot = {
    id: spec.id,
    name: spec.name ?? spec.id.slice(spec.id.lastIndexOf('/') + 1),
    runtime: spec.runtime ?? 'docker',
    containerId: isContainer ? 'a'.repeat(64) : null,
    image: isContainer ? 'nginx:1.27' : null,
    kubernetes: null,
    inode: spec.inode ?? inodeCounter++,
    populated: processes.length > 0,
    processes,
    initPid: processes[0] ?? null,
    startTimeSeconds: processes.length > 0 ? 1_700_000_000 : null,
    cpu: {
      usageSeconds: 100,
      userSeconds: 60,
      systemSeconds: 40,
      percent: cpuPercent,
      quotaPercent: quota !== null && cpuPercent !== null ? cpuPercent / quota : null,
      quotaCores: quota,
      quotaMicroseconds: quota === null ? null : quota * 100000,
      periodMicroseconds: quota === null ? null : 100000,
      shares: 1024,
      weight: null,
      periods: 1000,
      throttledPeriods: 10,
      throttledSeconds: 0.5,
      throttledPercent: spec.throttledPercent === undefined ? 0 : spec.throttledPercent,
      cpus: '0-1',
      mems: '0',
    },
    memory: {
      usageBytes: (spec.memBytes ?? 100 * MiB) + 10 * MiB,
      maxUsageBytes: 200 * MiB,
      workingSetBytes: spec.memBytes === undefined ? 100 * MiB : spec.memBytes,
      anonBytes: 80 * MiB,
      fileBytes: 30 * MiB,
      inactiveFileBytes: 10 * MiB,
      mappedFileBytes: 5 * MiB,
      swapBytes: 0,
      kernelBytes: 2 * MiB,
      limitBytes: memLimit,
      highBytes: null,
      softLimitBytes: null,
      lowBytes: null,
      minBytes: null,
      swapLimitBytes: null,
      failcnt: 0,
      pageFaults: 12345,
      majorPageFaults: 12,
      oomKills: spec.oomKills === undefined ? 0 : spec.oomKills,
      events: null,
    },
    io: {
      devices: [
        {
          major: 253,
          minor: 0,
          device: 'vda',
          readBytes: 1000,
          writeBytes: 2000,
          readOps: 10,
          writeOps: 20,
          readBytesPerSecond: spec.ioReadBps === undefined ? 0 : spec.ioReadBps,
          writeBytesPerSecond: spec.ioWriteBps === undefined ? 0 : spec.ioWriteBps,
          readOpsPerSecond: 0,
          writeOpsPerSecond: 0,
        },
      ],
      limits: [],
      weight: null,
      readBytesPerSecond: spec.ioReadBps === undefined ? 0 : spec.ioReadBps,
      writeBytesPerSecond: spec.ioWriteBps === undefined ? 0 : spec.ioWriteBps,
    },
    pids: {
      current: spec.pids === undefined ? processes.length : spec.pids,
      limit: spec.pidsLimit === undefined ? null : spec.pidsLimit,
      peak: null,
      limitHits: 0,
    },
    devices: { rules: [{ type: 'c', major: 1, minor: 3, access: 'rwm' }], note: null },
    hugetlb: [],
    freezer: spec.frozen ? 'frozen' : 'thawed',
    pressure: {
      cpu: null,
      memory: {
        some: { avg10: spec.psiMem ?? 0, avg60: 0, avg300: 0, totalSeconds: 0 },
        full: { avg10: 0, avg60: 0, avg300: 0, totalSeconds: 0 },
      },
      io: null,
    },
    namespaces: processes.length > 0 ? namespaces(isContainer, spec.netInode ?? null) : null,
    capabilities:
      isContainer && processes.length > 0
        ? {
            effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
            permitted: [],
            bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'],
          }
        : null,
    network:
      spec.netRxBps === undefined && spec.netTxBps === undefined
        ? null
        : [
            {
              interface: 'eth0',
              rxBytes: 0,
              rxPackets: 0,
              rxErrors: 0,
              rxDropped: 0,
              txBytes: 0,
              txPackets: 0,
              txErrors: 0,
              txDropped: 0,
              rxBytesPerSecond: spec.netRxBps ?? null,
              txBytesPerSecond: spec.netTxBps ?? null,
            },
          ],
  };
  spec.patch?.(c);
  return c;
}

export function snapshot(
  containers: ContainerSnapshot[],
  monotonicSeconds = 100,
  overrides: Partial<Snapshot['host']> = {},
): Snapshot {
  return {
    timestamp: '2026-01-02T03:04:05.000Z',
    monotonicSeconds,
    // The exporter tests' host (helpers/snapshots.ts), as the dashboard's tests see it.
    host: host({
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
      ...overrides,
    }),
    containers,
    notes: [],
  };
}

export { MiB };
