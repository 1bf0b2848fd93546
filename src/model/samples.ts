// Sample snapshots with every field filled as the collectors would, for
// tests, the benchmarks and docs: one module, so the faces' tests and the
// benchmarks draw the same shapes. Pure: no file is read.

import { NAMESPACE_TYPES, type ContainerSnapshot, type HostInfo, type Namespaces, type Snapshot } from './types.js';

export const MiB = 1024 * 1024;

/** A v2 host with two interfaces (the exporter's tests' host). */
/** A distinct 64-hex id per cgroup path, as each real container has its own. */
function sampleContainerId(path: string): string {
  let h = 2166136261;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(8);
}

export function sampleHost(overrides: Partial<HostInfo> = {}): HostInfo {
  return {
    hostname: 'node1',
    kernel: '6.18.0',
    cgroupMode: 'v2',
    cpus: 8,
    memoryBytes: 16 * 1024 * MiB,
    memoryAvailableBytes: 8 * 1024 * MiB,
    cpuUsageSeconds: 1000,
    cpuPercent: null,
    pressure: null,
    namespaceReference: '/proc/1/ns',
    v2Controllers: ['cpu', 'cpuset', 'io', 'memory', 'pids', 'hugetlb'],
    machineId: '0123456789abcdef0123456789abcdef',
    bootId: '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b',
    systemUuid: null,
    network: [
      {
        interface: 'lo',
        rxBytes: 1,
        rxPackets: 1,
        rxErrors: 0,
        rxDropped: 0,
        txBytes: 1,
        txPackets: 1,
        txErrors: 0,
        txDropped: 0,
        rxBytesPerSecond: null,
        txBytesPerSecond: null,
      },
      {
        interface: 'eth0',
        rxBytes: 5000,
        rxPackets: 50,
        rxErrors: 1,
        rxDropped: 2,
        txBytes: 3000,
        txPackets: 30,
        txErrors: 3,
        txDropped: 4,
        rxBytesPerSecond: null,
        txBytesPerSecond: null,
      },
    ],
    ...overrides,
  };
}

/** A docker container on cgroup v2 with a 256 MiB limit and a 0.5-CPU quota. */
export function v2Container(overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return {
    id: '/system.slice/docker-3f1c0b5e9a7d.scope',
    name: 'web',
    runtime: 'docker',
    containerId: '3f1c0b5e9a7d',
    image: 'nginx:1.27',
    kubernetes: null,
    labels: {},
    runtimeConfig: null,
    inode: 1234,
    populated: true,
    processes: [100, 101],
    initPid: 100,
    startTimeSeconds: 1767225600.37,
    cpu: {
      usageSeconds: 12.5,
      userSeconds: 10,
      systemSeconds: 2.5,
      percent: null,
      quotaPercent: null,
      quotaCores: 0.5,
      quotaMicroseconds: 50000,
      periodMicroseconds: 100000,
      shares: null,
      weight: 100,
      periods: 400,
      throttledPeriods: 40,
      throttledSeconds: 1.25,
      throttledPercent: null,
      cpus: '0-7',
      mems: '0',
    },
    memory: {
      usageBytes: 100 * MiB,
      maxUsageBytes: 150 * MiB,
      workingSetBytes: 80 * MiB,
      anonBytes: 60 * MiB,
      fileBytes: 30 * MiB,
      inactiveFileBytes: 20 * MiB,
      mappedFileBytes: 5 * MiB,
      swapBytes: 1 * MiB,
      kernelBytes: 4 * MiB,
      limitBytes: 256 * MiB,
      highBytes: 200 * MiB,
      softLimitBytes: null,
      lowBytes: 0,
      minBytes: 16 * MiB,
      swapLimitBytes: 64 * MiB,
      failcnt: null,
      pageFaults: 1000,
      majorPageFaults: 10,
      oomKills: 2,
      events: { low: 0, high: 5, max: 3, oom: 2, oomKill: 2 },
    },
    io: {
      devices: [
        {
          major: 8,
          minor: 0,
          device: 'sda',
          readBytes: 4096,
          writeBytes: 8192,
          readOps: 1,
          writeOps: 2,
          readBytesPerSecond: null,
          writeBytesPerSecond: null,
          readOpsPerSecond: null,
          writeOpsPerSecond: null,
        },
      ],
      limits: [
        { major: 8, minor: 0, device: 'sda', readBps: 10485760, writeBps: null, readIops: null, writeIops: 1000 },
      ],
      weight: 100,
      readBytesPerSecond: null,
      writeBytesPerSecond: null,
    },
    pids: { current: 7, limit: 4096, peak: 9, limitHits: 0 },
    devices: null,
    hugetlb: null,
    freezer: null,
    pressure: {
      cpu: {
        some: { avg10: 12.5, avg60: 1, avg300: 0.5, totalSeconds: 3.5 },
        full: { avg10: 2.5, avg60: 0, avg300: 0, totalSeconds: 1.25 },
      },
      memory: { some: { avg10: 0, avg60: 0, avg300: 0, totalSeconds: 0.5 }, full: null },
      io: null,
    },
    namespaces: {
      cgroup: { inode: 1, isolated: true },
      ipc: { inode: 2, isolated: true },
      mnt: { inode: 3, isolated: true },
      net: { inode: 4, isolated: true },
      pid: { inode: 5, isolated: true },
      time: { inode: 6, isolated: false },
      user: { inode: 7, isolated: false },
      uts: { inode: 8, isolated: true },
    },
    capabilities: { effective: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'], permitted: [], bounding: [] },
    network: [
      {
        interface: 'eth0',
        rxBytes: 100,
        rxPackets: 10,
        rxErrors: 0,
        rxDropped: 1,
        txBytes: 200,
        txPackets: 20,
        txErrors: 0,
        txDropped: 0,
        rxBytesPerSecond: null,
        txBytesPerSecond: null,
      },
    ],
    ...overrides,
  };
}

/** The shape of a sample container: the figures the faces' tests care about, the rest plausible. */
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

function sampleNamespaces(isolated: boolean, netInode: number | null): Namespaces {
  const ns = {} as Namespaces;
  NAMESPACE_TYPES.forEach((t, i) => {
    ns[t] = { inode: isolated ? 4026532000 + i : 4026531830 + i, isolated };
  });
  if (netInode !== null) ns.net = { inode: netInode, isolated: true };
  return ns;
}

let inodeCounter = 1000;

export function sampleContainer(spec: ContainerSpec): ContainerSnapshot {
  const isContainer = (spec.runtime ?? 'docker') !== 'cgroup';
  const memLimit = spec.memLimitBytes === undefined ? 512 * MiB : spec.memLimitBytes;
  const quota = spec.quotaCores ?? null;
  const cpuPercent = spec.cpuPercent === undefined ? 10 : spec.cpuPercent;
  const processes = spec.processes ?? [100, 101];
  const c: ContainerSnapshot = {
    id: spec.id,
    name: spec.name ?? spec.id.slice(spec.id.lastIndexOf('/') + 1),
    runtime: spec.runtime ?? 'docker',
    containerId: isContainer ? sampleContainerId(spec.id) : null,
    image: isContainer ? 'nginx:1.27' : null,
    kubernetes: null,
    labels: {},
    runtimeConfig: null,
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
    namespaces: processes.length > 0 ? sampleNamespaces(isContainer, spec.netInode ?? null) : null,
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

export interface SampleSnapshotOptions {
  monotonicSeconds?: number;
  timestamp?: string;
  host?: Partial<HostInfo>;
}

export function sampleSnapshot(containers: ContainerSnapshot[], options: SampleSnapshotOptions = {}): Snapshot {
  return {
    timestamp: options.timestamp ?? '2026-01-01T00:00:00.000Z',
    monotonicSeconds: options.monotonicSeconds ?? 100,
    host: sampleHost(options.host),
    containers,
    notes: [],
  };
}

function syntheticNamespaces(i: number): Namespaces {
  const ns = {} as Namespaces;
  NAMESPACE_TYPES.forEach((t, k) => (ns[t] = { inode: 4026532000 + i * 8 + k, isolated: true }));
  return ns;
}

/** N containers like a busy host's, their numbers moving with `tick`. */
export function syntheticSnapshot(n: number, tick: number): Snapshot {
  const containers: ContainerSnapshot[] = [];
  for (let i = 0; i < n; i++) {
    const wave = (Math.sin(i * 0.37 + tick * 0.9) + 1) / 2;
    const cpu = wave * 180;
    const mem = (50 + ((i * 37) % 900)) * MiB * (0.8 + wave * 0.2);
    containers.push({
      id: `/system.slice/docker-${String(i).padStart(6, '0')}.scope`,
      name: `service-${i % 97}-${i}`,
      runtime: 'docker',
      containerId: String(i).padStart(64, '0'),
      image: `registry.example/app-${i % 13}:1.${i % 7}`,
      kubernetes: null,
      labels: {},
      runtimeConfig: null,
      inode: 100_000 + i,
      populated: true,
      processes: [10_000 + i * 3, 10_001 + i * 3],
      initPid: 10_000 + i * 3,
      startTimeSeconds: 1_700_000_000,
      cpu: {
        usageSeconds: 1000 + tick,
        userSeconds: 600,
        systemSeconds: 400,
        percent: cpu,
        quotaPercent: i % 3 === 0 ? cpu / 2 : null,
        quotaCores: i % 3 === 0 ? 2 : null,
        quotaMicroseconds: i % 3 === 0 ? 200000 : null,
        periodMicroseconds: i % 3 === 0 ? 100000 : null,
        shares: 1024,
        weight: null,
        periods: 10 * tick,
        throttledPeriods: tick,
        throttledSeconds: tick / 10,
        throttledPercent: i % 3 === 0 ? wave * 30 : 0,
        cpus: '0-1',
        mems: '0',
      },
      memory: {
        usageBytes: mem * 1.1,
        maxUsageBytes: mem * 1.3,
        workingSetBytes: mem,
        anonBytes: mem * 0.7,
        fileBytes: mem * 0.4,
        inactiveFileBytes: mem * 0.1,
        mappedFileBytes: mem * 0.05,
        swapBytes: 0,
        kernelBytes: 2 * MiB,
        limitBytes: i % 2 === 0 ? 1024 * MiB : null,
        highBytes: null,
        softLimitBytes: null,
        lowBytes: null,
        minBytes: null,
        swapLimitBytes: null,
        failcnt: 0,
        pageFaults: 1000 * tick,
        majorPageFaults: tick,
        oomKills: i % 101 === 0 ? tick >> 4 : 0,
        events: null,
      },
      io: {
        devices: [],
        limits: [],
        weight: null,
        readBytesPerSecond: wave * 5 * MiB,
        writeBytesPerSecond: (1 - wave) * 2 * MiB,
      },
      pids: { current: 2 + (i % 40), limit: i % 4 === 0 ? 100 : null, peak: null, limitHits: 0 },
      devices: { rules: [{ type: 'c', major: 1, minor: 3, access: 'rwm' }], note: null },
      hugetlb: [],
      freezer: 'thawed',
      pressure: {
        cpu: null,
        memory: { some: { avg10: wave * 5, avg60: 1, avg300: 1, totalSeconds: tick }, full: null },
        io: null,
      },
      namespaces: syntheticNamespaces(i),
      capabilities: { effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: [], bounding: [] },
      network: [
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
          rxBytesPerSecond: wave * 100_000,
          txBytesPerSecond: wave * 50_000,
        },
      ],
    });
  }
  return {
    timestamp: new Date(1_767_000_000_000 + tick * 1000).toISOString(),
    monotonicSeconds: 1000 + tick,
    host: {
      hostname: 'bench',
      kernel: '6.18.0',
      cgroupMode: 'hybrid',
      cpus: 32,
      memoryBytes: 128 * 1024 * MiB,
      memoryAvailableBytes: 64 * 1024 * MiB,
      cpuUsageSeconds: 1000 + tick,
      cpuPercent: 800,
      pressure: null,
      namespaceReference: '/proc/1/ns',
      v2Controllers: [],
      machineId: null,
      bootId: null,
      systemUuid: null,
      network: null,
    },
    containers,
    notes: [],
  };
}
