// The model every face reads: one Snapshot per tick. Field names are the
// public JSON contract (docs/snapshot.schema.json); units are in the names.
// Unknown or unlimited values are null, never 0 and never a kernel sentinel.

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export type Runtime =
  'docker' | 'podman' | 'containerd' | 'crio' | 'kubernetes' | 'lxc' | 'systemd' | 'runc' | 'tstop' | 'cgroup';

export const NAMESPACE_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  /** Total stall time, converted from the kernel's microseconds. */
  totalSeconds: number;
}

export interface PressureResource {
  some: PressureLine | null;
  /** null for cpu on kernels that do not report "full" there. */
  full: PressureLine | null;
}

export interface Pressure {
  cpu: PressureResource | null;
  memory: PressureResource | null;
  io: PressureResource | null;
}

export interface HostInfo {
  hostname: string;
  kernel: string;
  cgroupMode: CgroupMode;
  /** Online CPUs. */
  cpus: number;
  memoryBytes: number;
  memoryAvailableBytes: number | null;
  /** Host CPU busy time in seconds (all CPUs) from /proc/stat. */
  cpuUsageSeconds: number;
  /** Host CPU use, 100 = one core; null on the first sample. */
  cpuPercent: number | null;
  pressure: Pressure | null;
  /** Which namespaces "shared with the host" is judged against. */
  namespaceReference: '/proc/1/ns' | '/proc/self/ns' | null;
  /** Controllers whose files are cgroup v2 files here (all on v2, none on v1, some on hybrid hosts). */
  v2Controllers: string[];
  /** /etc/machine-id (or /var/lib/dbus/machine-id); null if unreadable. */
  machineId: string | null;
  /** /proc/sys/kernel/random/boot_id; null if unreadable. */
  bootId: string | null;
  /** /sys/class/dmi/id/product_uuid (root only); null if unreadable or absent. */
  systemUuid: string | null;
  /** Interfaces of the host's network namespace (PID 1's, else tstop's own); null if unreadable. */
  network: NetworkInterface[] | null;
}

export interface CpuStats {
  usageSeconds: number | null;
  userSeconds: number | null;
  systemSeconds: number | null;
  /** 100 = one core busy; null on the first sample. */
  percent: number | null;
  /** percent of the quota in force (100 = quota fully used); null when unlimited or first sample. */
  quotaPercent: number | null;
  /** quota / period; null = unlimited. */
  quotaCores: number | null;
  quotaMicroseconds: number | null;
  periodMicroseconds: number | null;
  /** v1 cpu.shares */
  shares: number | null;
  /** v2 cpu.weight */
  weight: number | null;
  periods: number | null;
  throttledPeriods: number | null;
  throttledSeconds: number | null;
  /** throttled periods / periods between two samples, in percent. */
  throttledPercent: number | null;
  /** cpuset: effective CPUs where available, as the kernel's list ("0-3,6"). */
  cpus: string | null;
  mems: string | null;
}

export interface MemoryEvents {
  low: number | null;
  high: number | null;
  max: number | null;
  oom: number | null;
  oomKill: number | null;
}

export interface MemoryStats {
  usageBytes: number | null;
  /** v1 max_usage_in_bytes / v2 memory.peak */
  maxUsageBytes: number | null;
  /** usage minus inactive file, floored at 0 (docker CLI, cAdvisor). */
  workingSetBytes: number | null;
  anonBytes: number | null;
  fileBytes: number | null;
  inactiveFileBytes: number | null;
  mappedFileBytes: number | null;
  swapBytes: number | null;
  kernelBytes: number | null;
  limitBytes: number | null;
  /** v2 memory.high */
  highBytes: number | null;
  /** v1 memory.soft_limit_in_bytes */
  softLimitBytes: number | null;
  /** v2 memory.low */
  lowBytes: number | null;
  /** v2 memory.min */
  minBytes: number | null;
  /** v1 memsw limit minus memory limit is NOT applied: this is the kernel's own swap(+mem on v1) limit. */
  swapLimitBytes: number | null;
  /** v1 memory.failcnt */
  failcnt: number | null;
  /** Page faults (memory.stat pgfault; v1 total_pgfault). */
  pageFaults: number | null;
  /** Major page faults (memory.stat pgmajfault; v1 total_pgmajfault). */
  majorPageFaults: number | null;
  /** OOM kills of this cgroup's own processes: v2 memory.events.local oom_kill, v1 memory.oom_control oom_kill. */
  oomKills: number | null;
  /** v2 memory.events (this cgroup and its descendants); v1 has only oomKill. */
  events: MemoryEvents | null;
}

export interface IoDeviceStats {
  major: number;
  minor: number;
  /** Kernel device name from /sys/dev/block (e.g. "vda"); null if unknown. */
  device: string | null;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
  readBytesPerSecond: number | null;
  writeBytesPerSecond: number | null;
  readOpsPerSecond: number | null;
  writeOpsPerSecond: number | null;
}

export interface IoLimit {
  major: number;
  minor: number;
  device: string | null;
  readBps: number | null;
  writeBps: number | null;
  readIops: number | null;
  writeIops: number | null;
}

export interface IoStats {
  devices: IoDeviceStats[];
  limits: IoLimit[];
  /** v1 blkio.weight / blkio.bfq.weight, v2 io.weight / io.bfq.weight default */
  weight: number | null;
  readBytesPerSecond: number | null;
  writeBytesPerSecond: number | null;
}

export interface PidsStats {
  current: number | null;
  limit: number | null;
  peak: number | null;
  /** pids.events max: forks refused by the limit */
  limitHits: number | null;
}

export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  /** null = wildcard (*) */
  major: number | null;
  minor: number | null;
  access: string;
}

export interface DevicesStats {
  /** v1 devices.list; null where not readable (v2). */
  rules: DeviceRule[] | null;
  /** Human note where rules cannot be shown (v2 uses BPF programs). */
  note: string | null;
}

export interface HugetlbStats {
  pageSize: string;
  usageBytes: number | null;
  maxUsageBytes: number | null;
  limitBytes: number | null;
}

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

export interface NamespaceInfo {
  inode: number;
  isolated: boolean;
}

export type Namespaces = Record<NamespaceType, NamespaceInfo | null>;

export interface Capabilities {
  effective: string[];
  permitted: string[];
  bounding: string[];
}

export interface NetworkInterface {
  interface: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  rxBytesPerSecond: number | null;
  txBytesPerSecond: number | null;
}

export interface KubernetesInfo {
  pod: string | null;
  namespace: string | null;
  container: string | null;
  podUid: string | null;
}

/**
 * A container's limits and pause state as its runtime has them on record
 * (docker: hostconfig.json and config.v2.json's State). tstop's own limit
 * changes and freezes reach the cgroup, not this record: `docker restart`
 * puts these values back (see runtimeDrift in src/model/drift.ts).
 */
export interface RuntimeConfig {
  /** HostConfig.Memory; null when unlimited (0). */
  memoryLimitBytes: number | null;
  /** HostConfig.NanoCpus / 1e9, else CpuQuota / CpuPeriod; null when unlimited. */
  cpus: number | null;
  /** HostConfig.PidsLimit; null when unlimited (unset, 0 or -1). */
  pidsLimit: number | null;
  /** State.Paused: paused by the engine (docker pause). */
  paused: boolean;
}

export interface ContainerSnapshot {
  /** The cgroup path, starting with "/" (in the fleet view "/<instance><path>", see docs/fleet.md). */
  id: string;
  name: string;
  runtime: Runtime;
  /** The runtime's container id (64 hex for most runtimes), where the path or state tells. */
  containerId: string | null;
  image: string | null;
  kubernetes: KubernetesInfo | null;
  /** The runtime's labels (docker Config.Labels, OCI annotations, ...): compose project and service, io.kubernetes.*; {} when none. */
  labels: Record<string, string>;
  /** What the runtime has on record for the container (docker's hostconfig.json and State); null for other runtimes. */
  runtimeConfig: RuntimeConfig | null;
  /** Inode of the cgroup directory: a new value means the cgroup was recreated. */
  inode: number;
  /** Whether the cgroup or a descendant holds processes. */
  populated: boolean;
  processes: number[];
  /** Oldest process in the cgroup. */
  initPid: number | null;
  /** Seconds since the epoch the init process started; null if unknown. */
  startTimeSeconds: number | null;
  cpu: CpuStats | null;
  memory: MemoryStats | null;
  io: IoStats | null;
  pids: PidsStats | null;
  devices: DevicesStats | null;
  hugetlb: HugetlbStats[] | null;
  freezer: FreezerState | null;
  pressure: Pressure | null;
  namespaces: Namespaces | null;
  capabilities: Capabilities | null;
  /** Interfaces of an isolated network namespace; null when shared with the host or unknown. */
  network: NetworkInterface[] | null;
}

export interface Snapshot {
  /** ISO 8601 wall-clock time of the sample. */
  timestamp: string;
  /** Monotonic clock (seconds) of the sample; rates are computed from it. */
  monotonicSeconds: number;
  host: HostInfo;
  containers: ContainerSnapshot[];
  /** One-line notes about what could not be read (not root, no PSI, ...). */
  notes: string[];
}

/** A container of the fleet view: one cgroup on one host, read from Prometheus. */
export interface FleetContainerSnapshot extends ContainerSnapshot {
  /** The Prometheus `instance` label of the host the cgroup is on. */
  instance: string;
}

/** The fleet view's document: the snapshot schema plus where the data comes from and the targets (docs/fleet.md). */
export interface FleetSnapshot extends Snapshot {
  containers: FleetContainerSnapshot[];
  source: { kind: 'prometheus'; url: string };
  /** The scrape targets and their up state. */
  instances: FleetInstance[];
}

export function isFleetSnapshot(s: Snapshot | null | undefined): s is FleetSnapshot {
  return s !== null && s !== undefined && 'instances' in s;
}

/** The host of a fleet container (its `instance` label); null for a local container. */
export function instanceOf(c: ContainerSnapshot): string | null {
  return 'instance' in c && typeof c.instance === 'string' ? c.instance : null;
}

/** One scrape target of the fleet view. */
export interface FleetInstance {
  /** The Prometheus `instance` label. */
  instance: string;
  /** up == 1; null when Prometheus has no `up` series for it (federated data). */
  up: boolean | null;
  /** machine_cpu_cores, machine_memory_bytes; null where absent. */
  cpus: number | null;
  memoryBytes: number | null;
}

/** Where a face gets its Snapshots: the live Collector (src/collect), or a fake in tests. */
export interface SnapshotSource {
  /** The next snapshot; rates are relative to the previous call. */
  collect(): Snapshot;
  /** Releases what the source holds (descriptors, watches). */
  close?(): void;
  /** What the caller shows (the dashboard's rows on screen): the rest may be read less often. */
  focus?(focus: CollectFocus | null): void;
  /** The fields of a container that the latest snapshot carried over from an older tick (focus). */
  staleFields?(id: string): readonly (keyof ContainerSnapshot)[];
}

/**
 * A reader's focus: every figure of the cgroups in `ids` is read each tick,
 * and of the others only the cheap ones (processes, pids, CPU) and `fresh`
 * (what the reader sorts by); their other figures (memory with memory.stat,
 * io per device, PSI, hugetlb, device rules) are re-read at most
 * `slowRefreshMs` apart and carried over in between. A new cgroup is read
 * whole on its first tick.
 */
export interface CollectFocus {
  ids: ReadonlySet<string>;
  fresh: readonly (keyof ContainerSnapshot)[];
  slowRefreshMs: number;
  /**
   * The reader orders by a limit (memory % of limit, CPU % of quota): every
   * cgroup's settings are re-read as often as without a focus. Otherwise those
   * of cgroups out of focus are re-read less often (the collector says how).
   */
  settingsFresh?: boolean;
  /**
   * Cgroups the reader does not show at all (filtered out of its rows): their
   * slow figures, `fresh` ones included (no row to order), are not re-read
   * while they stay hidden (carried over, said stale); shown again, they are
   * due as any other's (at once when older than slowRefreshMs).
   */
  hidden?: ReadonlySet<string>;
}
