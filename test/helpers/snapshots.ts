// Handcrafted snapshots for tests of the faces (exporter, tables): a
// container with every field filled as the collectors would on v1 or v2,
// overridable piece by piece.

import type { ContainerSnapshot, HostInfo, Snapshot } from '../../src/model/types.js';

const MiB = 1024 * 1024;

export function host(overrides: Partial<HostInfo> = {}): HostInfo {
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

export function snapshot(containers: ContainerSnapshot[], hostOverrides: Partial<HostInfo> = {}): Snapshot {
  return {
    timestamp: '2026-01-01T00:00:00.000Z',
    monotonicSeconds: 100,
    host: host(hostOverrides),
    containers,
    notes: [],
  };
}
