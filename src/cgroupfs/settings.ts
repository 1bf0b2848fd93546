// How each setting file (limits, weights, cpusets, device rules) is kept
// fresh, in one table keyed by file name. A setting is kept in memory and
// re-read only when something that can change it was seen:
// - a write to a file of the cgroup: the kernel queues IN_MODIFY from
//   vfs_write for any write(2), cgroupfs included, and the cgroup
//   directory's inotify watch reports it with the file's name (no watch per
//   file); a file appearing or going (a v2 controller enabled or disabled in
//   the parent's cgroup.subtree_control) comes as IN_CREATE / IN_DELETE;
// - for the files the kernel also changes by itself, the writes named in
//   `by` to the same cgroup, to one above it (subtree) or anywhere in the
//   hierarchy, and CPU or memory hotplug (the collector reads the online
//   masks every tick: src/cgroupfs/hotplug.ts).
// A file missing here, a cgroup directory without a watch (out of watches,
// no koffi) and a tree after an inotify queue overflow fall back to the
// timed re-read (settingsRefreshMs). Every setting is also re-read by a slow
// safety pass (src/collect/collector.ts, SETTINGS_SAFETY_MS) for a kernel
// path nobody listed here.

/** Where a write that changes the file can be made. */
export type SettingScope = 'cgroup' | 'subtree' | 'hierarchy';

export interface SettingFreshness {
  /** Files whose write (in scope) changes this file's value; the file itself first where writable. */
  readonly by: readonly string[];
  /** cgroup: the same cgroup; subtree: it or any cgroup above it; hierarchy: any cgroup of the hierarchy. */
  readonly scope: SettingScope;
  /** The kernel also changes it when CPUs or memory nodes go on or offline. */
  readonly hotplug: boolean;
}

/** A file only its own writes change (and those of the named aliases, in the same cgroup). */
function written(name: string, ...aliases: string[]): SettingFreshness {
  return { by: [name, ...aliases], scope: 'cgroup', hotplug: false };
}

function writtenOrHotplug(name: string): SettingFreshness {
  return { by: [name], scope: 'cgroup', hotplug: true };
}

const V1_CPUSET_WRITES = ['cpuset.cpus', 'cpuset.mems'];
// v2: a sibling turned partition root (or given exclusive CPUs) takes CPUs from the others' effective set.
const V2_CPUSET_WRITES = [
  'cpuset.cpus',
  'cpuset.mems',
  'cpuset.cpus.partition',
  'cpuset.cpus.exclusive',
  'cgroup.subtree_control',
];

/** Stands for the page size in hugetlb file names ("hugetlb.2MB.max" is looked up as "hugetlb.*.max"). */
const HUGETLB_SIZE = /^hugetlb\.[^.]+\./;

const FRESHNESS: Readonly<Record<string, SettingFreshness>> = {
  // v1 cpu, memory, pids, hugetlb: plain values that only a write of the file sets.
  'cpu.cfs_quota_us': written('cpu.cfs_quota_us'),
  'cpu.cfs_period_us': written('cpu.cfs_period_us'),
  'cpu.shares': written('cpu.shares'),
  'memory.limit_in_bytes': written('memory.limit_in_bytes'),
  'memory.soft_limit_in_bytes': written('memory.soft_limit_in_bytes'),
  'memory.memsw.limit_in_bytes': written('memory.memsw.limit_in_bytes'),
  'pids.max': written('pids.max'),
  'hugetlb.*.limit_in_bytes': written('hugetlb.*.limit_in_bytes'),
  // v1 blkio. A removed disk's throttle rule leaves the file without a write: the safety pass.
  'blkio.throttle.read_bps_device': written('blkio.throttle.read_bps_device'),
  'blkio.throttle.write_bps_device': written('blkio.throttle.write_bps_device'),
  'blkio.throttle.read_iops_device': written('blkio.throttle.read_iops_device'),
  'blkio.throttle.write_iops_device': written('blkio.throttle.write_iops_device'),
  // BFQ's weight, under two names on some kernels (one a link to the other): a write to either.
  'blkio.weight': written('blkio.weight', 'blkio.bfq.weight'),
  'blkio.bfq.weight': written('blkio.bfq.weight', 'blkio.weight'),
  // v1 devices: the list is set through devices.allow / devices.deny, and a
  // parent's change is pushed down to its children's lists (propagate_exception).
  'devices.list': { by: ['devices.allow', 'devices.deny'], scope: 'subtree', hotplug: false },
  // v1 cpuset: a parent's write recomputes every effective mask below it;
  // hotplug takes offline CPUs out of cpuset.cpus too (legacy mode).
  'cpuset.cpus': writtenOrHotplug('cpuset.cpus'),
  'cpuset.mems': writtenOrHotplug('cpuset.mems'),
  'cpuset.effective_cpus': { by: V1_CPUSET_WRITES, scope: 'subtree', hotplug: true },
  'cpuset.effective_mems': { by: V1_CPUSET_WRITES, scope: 'subtree', hotplug: true },
  // v2: cpu.weight.nice writes cpu.weight.
  'cpu.max': written('cpu.max'),
  'cpu.weight': written('cpu.weight', 'cpu.weight.nice'),
  'memory.max': written('memory.max'),
  'memory.high': written('memory.high'),
  'memory.low': written('memory.low'),
  'memory.min': written('memory.min'),
  'memory.swap.max': written('memory.swap.max'),
  'hugetlb.*.max': written('hugetlb.*.max'),
  'io.max': written('io.max'),
  'io.weight': written('io.weight'),
  'io.bfq.weight': written('io.bfq.weight'),
  'cpuset.cpus.effective': { by: V2_CPUSET_WRITES, scope: 'hierarchy', hotplug: true },
  'cpuset.mems.effective': { by: V2_CPUSET_WRITES, scope: 'hierarchy', hotplug: true },
};

/** The table's key for a file name (hugetlb's page size replaced by "*"). */
export function settingKey(name: string): string {
  return name.replace(HUGETLB_SIZE, 'hugetlb.*.');
}

/** How a setting file is kept fresh, or null: re-read on the timer (not in the table). */
export function settingFreshness(name: string): SettingFreshness | null {
  return FRESHNESS[settingKey(name)] ?? null;
}
