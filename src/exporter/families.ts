// Every metric family tstop exports, derived from the Snapshot model only
// (the exporter never opens a cgroup file). cAdvisor's container_* and
// machine_* families keep cAdvisor's names, types, HELP text, labels and
// derivations (docs/metrics.md); what cAdvisor lacks is under tstop_*.

import { isContainerRuntime } from '../model/select.js';
import { ALL_CONTAINER_LABELS, containerLabelPairs, type ContainerLabelPolicy } from './container-labels.js';
import { NAMESPACE_TYPES, type ContainerSnapshot, type PressureResource, type Snapshot } from '../model/types.js';
import { escapeLabelValue, labelPairs, TextWriter, type MetricType, type SampleSink } from './text.js';

/** cAdvisor's rule for memory limits: anything above 2^62 means unlimited and is exported as 0. */
export const UNLIMITED_ABOVE = 2 ** 62;

/** A cAdvisor spec value: unknown, unlimited or a kernel sentinel → 0. */
export function specValue(v: number | null | undefined): number {
  return v === null || v === undefined || !Number.isFinite(v) || v > UNLIMITED_ABOVE || v < 0 ? 0 : v;
}

/** A value for a tstop_* limit family: null (absent) when unknown or unlimited. */
export function limitOrAbsent(v: number | null | undefined): number | null {
  return v === null || v === undefined || !Number.isFinite(v) || v > UNLIMITED_ABOVE || v < 0 ? null : v;
}

/** cAdvisor's v2 conversion of cpu.weight to shares: linear, integer division; 0 outside 1..10000. */
export function cadvisorSharesFromWeight(weight: number | null): number {
  if (weight === null || !Number.isInteger(weight) || weight < 1 || weight > 10000) return 0;
  return 2 + Math.floor(((weight - 1) * 262142) / 9999);
}

/** Interfaces cAdvisor leaves out (case-insensitive prefixes). */
const SKIPPED_INTERFACES = /^(lo|veth|docker|nerdctl)/i;

export function isExportedInterface(name: string): boolean {
  return !SKIPPED_INTERFACES.test(name);
}

/** What a family's emitter may need besides the container. */
export interface EmitContext {
  /** The memory controller is served by cgroup v2. */
  memoryV2: boolean;
  /** The cpu controller is served by cgroup v2. */
  cpuV2: boolean;
  /** Scrape time, whole seconds since the epoch. */
  nowSeconds: number;
  snapshot: Snapshot;
  /** The root cgroup "/" gets the host's network (cAdvisor reads PID 1's). */
  hostNetworkFor: (c: ContainerSnapshot) => ContainerSnapshot['network'];
}

export interface ContainerFamily {
  name: string;
  type: MetricType;
  help: string;
  emit: (c: ContainerSnapshot, w: SampleSink, ctx: EmitContext) => void;
  /**
   * Whose samples depend on more than the container's fields (see
   * render-cache.ts): every cgroup's ('all': the scrape time), or the root
   * cgroup's alone ('root': "/" gets the host's network).
   */
  volatile?: 'all' | 'root';
}

function fam(
  name: string,
  type: MetricType,
  help: string,
  emit: ContainerFamily['emit'],
  volatile?: ContainerFamily['volatile'],
): ContainerFamily {
  return { name, type, help, emit, volatile };
}

/** Emits v when it is a finite number. */
function put(w: SampleSink, v: number | null | undefined): void {
  if (v !== null && v !== undefined && Number.isFinite(v)) w.sample(v);
}

/** The CFS families exist only while a quota is set (cAdvisor). */
function hasQuota(c: ContainerSnapshot): boolean {
  const q = c.cpu?.quotaMicroseconds;
  return q !== null && q !== undefined && q > 0 && q <= UNLIMITED_ABOVE;
}

function deviceLabels(major: number, minor: number, device: string | null): string {
  return `device="${device ? escapeLabelValue('/dev/' + device) : ''}",major="${major}",minor="${minor}"`;
}

function deviceLabel(device: string | null): string {
  return `device="${device ? escapeLabelValue('/dev/' + device) : ''}"`;
}

type NetKey = 'rxBytes' | 'rxPackets' | 'rxDropped' | 'rxErrors' | 'txBytes' | 'txPackets' | 'txDropped' | 'txErrors';

function networkFamily(name: string, help: string, key: NetKey): ContainerFamily {
  return fam(
    name,
    'counter',
    help,
    (c, w, ctx) => {
      const ifaces = ctx.hostNetworkFor(c);
      if (!ifaces) return;
      for (const i of ifaces) {
        if (isExportedInterface(i.interface)) w.sampleWith(`interface="${escapeLabelValue(i.interface)}"`, i[key]);
      }
    },
    'root', // the root cgroup's are the host's
  );
}

type PsiResource = 'cpu' | 'memory' | 'io';

function pressureOf(c: ContainerSnapshot, r: PsiResource): PressureResource | null {
  return c.pressure?.[r] ?? null;
}

function pressureTotal(r: PsiResource, line: 'some' | 'full', help: string): ContainerFamily {
  const name = `container_pressure_${r}_${line === 'some' ? 'waiting' : 'stalled'}_seconds_total`;
  return fam(name, 'counter', help, (c, w) => put(w, pressureOf(c, r)?.[line]?.totalSeconds));
}

const PSI_WORD: Record<PsiResource, string> = { cpu: 'CPU', memory: 'memory', io: 'IO' };

function pressureAvg10(r: PsiResource, line: 'some' | 'full'): ContainerFamily {
  const name = `tstop_container_pressure_${r}_${line === 'some' ? 'waiting' : 'stalled'}_avg10_ratio`;
  const help =
    line === 'some'
      ? `Share of the last 10 seconds in which at least one task waited for ${PSI_WORD[r]} (PSI some avg10 / 100).`
      : `Share of the last 10 seconds in which all non-idle tasks were stalled on ${PSI_WORD[r]} (PSI full avg10 / 100).`;
  return fam(name, 'gauge', help, (c, w) => {
    const avg = pressureOf(c, r)?.[line]?.avg10;
    if (avg !== undefined && avg !== null) w.sample(avg / 100);
  });
}

type LimitKey = 'readBps' | 'writeBps' | 'readIops' | 'writeIops';

function ioLimit(name: string, help: string, key: LimitKey): ContainerFamily {
  return fam(name, 'gauge', help, (c, w) => {
    for (const l of c.io?.limits ?? []) {
      const v = limitOrAbsent(l[key]);
      if (v !== null) w.sampleWith(deviceLabels(l.major, l.minor, l.device), v);
    }
  });
}

const FAILURES = [
  ['failure_type="pgfault",scope="container"', 'pageFaults'],
  ['failure_type="pgfault",scope="hierarchy"', 'pageFaults'],
  ['failure_type="pgmajfault",scope="container"', 'majorPageFaults'],
  ['failure_type="pgmajfault",scope="hierarchy"', 'majorPageFaults'],
] as const;

/** The per-container families, in exposition order. */
export const CONTAINER_FAMILIES: ContainerFamily[] = [
  // CPU
  fam('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.', (c, w) => {
    const u = c.cpu?.usageSeconds;
    if (u !== null && u !== undefined && u > 0) w.sampleWith('cpu="total"', u);
  }),
  fam('container_cpu_user_seconds_total', 'counter', 'Cumulative user cpu time consumed in seconds.', (c, w) =>
    put(w, c.cpu?.userSeconds),
  ),
  fam('container_cpu_system_seconds_total', 'counter', 'Cumulative system cpu time consumed in seconds.', (c, w) =>
    put(w, c.cpu?.systemSeconds),
  ),
  fam('container_cpu_cfs_periods_total', 'counter', 'Number of elapsed enforcement period intervals.', (c, w) => {
    if (hasQuota(c)) put(w, c.cpu?.periods);
  }),
  fam('container_cpu_cfs_throttled_periods_total', 'counter', 'Number of throttled period intervals.', (c, w) => {
    if (hasQuota(c)) put(w, c.cpu?.throttledPeriods);
  }),
  fam(
    'container_cpu_cfs_throttled_seconds_total',
    'counter',
    'Total time duration the container has been throttled.',
    (c, w) => {
      if (hasQuota(c)) put(w, c.cpu?.throttledSeconds);
    },
  ),
  // Memory
  fam(
    'container_memory_usage_bytes',
    'gauge',
    'Current memory usage in bytes, including all memory regardless of when it was accessed',
    (c, w) => put(w, c.memory?.usageBytes),
  ),
  fam('container_memory_max_usage_bytes', 'gauge', 'Maximum memory usage recorded in bytes', (c, w) => {
    if (c.memory) w.sample(c.memory.maxUsageBytes ?? 0);
  }),
  fam('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.', (c, w) =>
    put(w, c.memory?.workingSetBytes),
  ),
  fam('container_memory_rss', 'gauge', 'Size of RSS in bytes.', (c, w) => {
    if (c.memory) w.sample(c.memory.anonBytes ?? 0);
  }),
  fam('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.', (c, w) => {
    if (c.memory) w.sample(c.memory.fileBytes ?? 0);
  }),
  fam('container_memory_swap', 'gauge', 'Container swap usage in bytes.', (c, w) => {
    if (c.memory) w.sample(c.memory.swapBytes ?? 0);
  }),
  fam('container_memory_mapped_file', 'gauge', 'Size of memory mapped files in bytes.', (c, w) => {
    if (c.memory) w.sample(c.memory.mappedFileBytes ?? 0);
  }),
  fam('container_memory_kernel_usage', 'gauge', 'Size of kernel memory allocated in bytes.', (c, w, ctx) => {
    // cAdvisor reads no kernel figure on v2 and reports 0; v1 is memory.kmem.usage_in_bytes.
    if (c.memory) w.sample(ctx.memoryV2 ? 0 : (c.memory.kernelBytes ?? 0));
  }),
  fam('container_memory_failcnt', 'counter', 'Number of memory usage hits limits', (c, w) => {
    if (c.memory) w.sample(c.memory.failcnt ?? 0);
  }),
  fam('container_memory_failures_total', 'counter', 'Cumulative count of memory allocation failures.', (c, w) => {
    const m = c.memory;
    if (!m) return;
    for (const [labels, key] of FAILURES) w.sampleWith(labels, m[key] ?? 0);
  }),
  // Disk IO
  fam('container_fs_reads_bytes_total', 'counter', 'Cumulative count of bytes read', (c, w) => {
    for (const d of c.io?.devices ?? []) w.sampleWith(deviceLabel(d.device), d.readBytes);
  }),
  fam('container_fs_writes_bytes_total', 'counter', 'Cumulative count of bytes written', (c, w) => {
    for (const d of c.io?.devices ?? []) w.sampleWith(deviceLabel(d.device), d.writeBytes);
  }),
  fam('container_fs_reads_total', 'counter', 'Cumulative count of reads completed', (c, w) => {
    for (const d of c.io?.devices ?? []) w.sampleWith(deviceLabel(d.device), d.readOps);
  }),
  fam('container_fs_writes_total', 'counter', 'Cumulative count of writes completed', (c, w) => {
    for (const d of c.io?.devices ?? []) w.sampleWith(deviceLabel(d.device), d.writeOps);
  }),
  fam('container_blkio_device_usage_total', 'counter', 'Blkio Device bytes usage', (c, w) => {
    for (const d of c.io?.devices ?? []) {
      const dev = deviceLabels(d.major, d.minor, d.device);
      w.sampleWith(dev + ',operation="Read"', d.readBytes);
      w.sampleWith(dev + ',operation="Write"', d.writeBytes);
    }
  }),
  // Network
  networkFamily('container_network_receive_bytes_total', 'Cumulative count of bytes received', 'rxBytes'),
  networkFamily('container_network_receive_packets_total', 'Cumulative count of packets received', 'rxPackets'),
  networkFamily(
    'container_network_receive_packets_dropped_total',
    'Cumulative count of packets dropped while receiving',
    'rxDropped',
  ),
  networkFamily(
    'container_network_receive_errors_total',
    'Cumulative count of errors encountered while receiving',
    'rxErrors',
  ),
  networkFamily('container_network_transmit_bytes_total', 'Cumulative count of bytes transmitted', 'txBytes'),
  networkFamily('container_network_transmit_packets_total', 'Cumulative count of packets transmitted', 'txPackets'),
  networkFamily(
    'container_network_transmit_packets_dropped_total',
    'Cumulative count of packets dropped while transmitting',
    'txDropped',
  ),
  networkFamily(
    'container_network_transmit_errors_total',
    'Cumulative count of errors encountered while transmitting',
    'txErrors',
  ),
  // Processes
  fam('container_processes', 'gauge', 'Number of processes running inside the container.', (c, w) =>
    w.sample(c.processes.length),
  ),
  fam('container_threads', 'gauge', 'Number of threads running inside the container', (c, w) =>
    // pids.current counts tasks (threads); without the pids controller, cAdvisor falls back to cgroup.procs.
    w.sample(c.pids?.current ?? c.processes.length),
  ),
  fam(
    'container_threads_max',
    'gauge',
    'Maximum number of threads allowed inside the container, infinity if value is zero',
    (c, w) => {
      if (c.pids) w.sample(specValue(c.pids.limit));
    },
  ),
  fam('container_oom_events_total', 'counter', 'Count of out of memory events observed for the container', (c, w) =>
    w.sample(c.memory?.oomKills ?? 0),
  ),
  // Pressure (PSI): only where the kernel reports it
  pressureTotal('cpu', 'some', 'Total time duration tasks in the container have waited due to CPU congestion.'),
  pressureTotal(
    'cpu',
    'full',
    'Total time duration no tasks in the container could make progress due to CPU congestion.',
  ),
  pressureTotal('memory', 'some', 'Total time duration tasks in the container have waited due to memory congestion.'),
  pressureTotal(
    'memory',
    'full',
    'Total time duration no tasks in the container could make progress due to memory congestion.',
  ),
  pressureTotal('io', 'some', 'Total time duration tasks in the container have waited due to IO congestion.'),
  pressureTotal(
    'io',
    'full',
    'Total time duration no tasks in the container could make progress due to IO congestion.',
  ),
  // Spec
  fam('container_spec_cpu_period', 'gauge', 'CPU period of the container.', (c, w) => {
    if (c.cpu) w.sample(specValue(c.cpu.periodMicroseconds));
  }),
  fam('container_spec_cpu_quota', 'gauge', 'CPU quota of the container.', (c, w) => {
    if (hasQuota(c)) w.sample(c.cpu!.quotaMicroseconds!);
  }),
  fam('container_spec_cpu_shares', 'gauge', 'CPU share of the container.', (c, w, ctx) => {
    if (!c.cpu) return;
    w.sample(ctx.cpuV2 || c.cpu.shares === null ? cadvisorSharesFromWeight(c.cpu.weight) : specValue(c.cpu.shares));
  }),
  fam('container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.', (c, w) => {
    if (c.memory) w.sample(specValue(c.memory.limitBytes));
  }),
  fam('container_spec_memory_swap_limit_bytes', 'gauge', 'Memory swap limit for the container.', (c, w) => {
    if (c.memory) w.sample(specValue(c.memory.swapLimitBytes));
  }),
  fam(
    'container_spec_memory_reservation_limit_bytes',
    'gauge',
    'Memory reservation limit for the container.',
    (c, w, ctx) => {
      if (c.memory) w.sample(specValue(ctx.memoryV2 ? c.memory.minBytes : c.memory.softLimitBytes));
    },
  ),
  // Lifecycle
  fam('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds.', (c, w) => {
    if (c.startTimeSeconds !== null) w.sample(Math.floor(c.startTimeSeconds));
  }),
  fam(
    'container_last_seen',
    'gauge',
    'Last time a container was seen by the exporter',
    (_c, w, ctx) => w.sample(ctx.nowSeconds),
    'all',
  ),

  // tstop's own families
  fam('tstop_container_info', 'gauge', 'Information about a container known to tstop; the value is always 1.', (c, w) =>
    w.sampleWith(infoLabels(c), 1),
  ),
  fam(
    'tstop_container_namespace_isolated',
    'gauge',
    "Whether the container's init process has its own namespace of the given type (1) or shares the host's (0).",
    (c, w) => {
      const ns = c.namespaces;
      if (!ns) return;
      for (const type of NAMESPACE_TYPES) {
        const n = ns[type];
        if (n) w.sampleWith(`type="${type}"`, n.isolated ? 1 : 0);
      }
    },
  ),
  fam(
    'tstop_container_capabilities_effective',
    'gauge',
    "Number of capabilities in the effective set of the container's init process.",
    (c, w) => {
      if (c.capabilities) w.sample(c.capabilities.effective.length);
    },
  ),
  fam(
    'tstop_container_capability_effective',
    'gauge',
    "Effective capability of the container's init process; one series per capability present, value always 1.",
    (c, w) => {
      // Containers only: a root-owned systemd unit would add ~41 series each.
      if (!c.capabilities || !isContainerRuntime(c.runtime)) return;
      for (const cap of c.capabilities.effective) w.sampleWith(`capability="${cap.toLowerCase()}"`, 1);
    },
  ),
  ioLimit(
    'tstop_container_io_limit_read_bytes_per_second',
    'Read bandwidth limit for the device (io.max rbps / blkio.throttle.read_bps_device).',
    'readBps',
  ),
  ioLimit(
    'tstop_container_io_limit_write_bytes_per_second',
    'Write bandwidth limit for the device (io.max wbps / blkio.throttle.write_bps_device).',
    'writeBps',
  ),
  ioLimit(
    'tstop_container_io_limit_read_operations_per_second',
    'Read IOPS limit for the device (io.max riops / blkio.throttle.read_iops_device).',
    'readIops',
  ),
  ioLimit(
    'tstop_container_io_limit_write_operations_per_second',
    'Write IOPS limit for the device (io.max wiops / blkio.throttle.write_iops_device).',
    'writeIops',
  ),
  fam(
    'tstop_container_memory_high_bytes',
    'gauge',
    'Memory throttle limit (cgroup v2 memory.high); absent when unlimited.',
    (c, w) => put(w, limitOrAbsent(c.memory?.highBytes)),
  ),
  fam(
    'tstop_container_pids_limit',
    'gauge',
    'Maximum number of tasks allowed in the cgroup (pids.max); absent when unlimited.',
    (c, w) => put(w, limitOrAbsent(c.pids?.limit)),
  ),
  pressureAvg10('cpu', 'some'),
  pressureAvg10('cpu', 'full'),
  pressureAvg10('memory', 'some'),
  pressureAvg10('memory', 'full'),
  pressureAvg10('io', 'some'),
  pressureAvg10('io', 'full'),
];

function infoLabels(c: ContainerSnapshot): string {
  let s = `container_id="${escapeLabelValue(c.containerId ?? '')}",runtime="${c.runtime}"`;
  for (const type of NAMESPACE_TYPES) {
    const n = c.namespaces?.[type];
    s += `,${type}_ns="${n ? (n.isolated ? 'isolated' : 'shared') : ''}"`;
  }
  return s;
}

/**
 * The base labels of a container's series: cAdvisor's id/name/image, plus kubelet's three when in use.
 * Only containers have a name: runtime parents (/docker, /tstop, kubepods pods) get "" as in
 * cAdvisor, so dashboards filtering name!="" count each container once.
 */
export function baseLabels(
  c: ContainerSnapshot,
  kubernetes: boolean,
  labelPolicy: ContainerLabelPolicy = ALL_CONTAINER_LABELS,
): string {
  const name = isContainerRuntime(c.runtime) && c.containerId !== null ? c.name : '';
  const pairs: [string, string][] = [];
  if (kubernetes) pairs.push(['container', c.kubernetes?.container ?? '']);
  // Sorted label names, as cAdvisor prints them: container < container_label_* < id.
  pairs.push(...containerLabelPairs(c.labels, labelPolicy));
  pairs.push(['id', c.id], ['image', c.image ?? ''], ['name', name]);
  if (kubernetes) pairs.push(['namespace', c.kubernetes?.namespace ?? ''], ['pod', c.kubernetes?.pod ?? '']);
  return labelPairs(pairs);
}

export interface RenderOptions {
  /** Scrape time in milliseconds since the epoch (default: now). */
  nowMs?: number;
  /** Which runtime labels become container_label_* (default: all, as cAdvisor). */
  containerLabels?: ContainerLabelPolicy;
}

/** Writes the container and machine families of the given cgroups of a snapshot. */
export function renderSnapshot(
  snapshot: Snapshot,
  containers: ContainerSnapshot[],
  w: TextWriter,
  options: RenderOptions = {},
): void {
  const { ctx, bases } = renderContext(snapshot, containers, options);
  for (const f of CONTAINER_FAMILIES) {
    w.begin(f.name, f.type, f.help);
    for (let i = 0; i < containers.length; i++) {
      w.setBase(bases[i]);
      f.emit(containers[i], w, ctx);
    }
  }
  renderMachine(snapshot, w);
}

/** What the emitters need to render these cgroups of a snapshot, and each one's base labels. */
export function renderContext(
  snapshot: Snapshot,
  containers: ContainerSnapshot[],
  options: RenderOptions = {},
): { ctx: EmitContext; bases: string[] } {
  const kubernetes = usesKubernetesLabels(containers);
  const bases = containers.map((c) => baseLabels(c, kubernetes, options.containerLabels));
  return { ctx: emitContext(snapshot, options), bases };
}

/** Whether the base labels include kubelet's three (some container is a pod's). */
export function usesKubernetesLabels(containers: readonly ContainerSnapshot[]): boolean {
  return containers.some((c) => c.kubernetes !== null);
}

/** The root cgroup: its network families are the host's interfaces (a 'root' volatile family). */
export function takesHostNetwork(c: ContainerSnapshot): boolean {
  return c.id === '/';
}

/** What the emitters need besides the container. */
export function emitContext(snapshot: Snapshot, options: RenderOptions = {}): EmitContext {
  const v2 = new Set(snapshot.host.v2Controllers);
  const hostNetwork = snapshot.host.network;
  return {
    memoryV2: v2.has('memory'),
    cpuV2: v2.has('cpu'),
    nowSeconds: Math.floor((options.nowMs ?? Date.now()) / 1000),
    snapshot,
    // cAdvisor: the root cgroup reports PID 1's (the host's) interfaces; other
    // cgroups their init process's, here only when that namespace is not the host's.
    hostNetworkFor: (c) => (takesHostNetwork(c) ? hostNetwork : c.network),
  };
}

/** The machine_* families (after the container families). */
export function renderMachine(snapshot: Snapshot, w: TextWriter): void {
  const h = snapshot.host;
  w.setBase(
    labelPairs([
      ['boot_id', h.bootId ?? ''],
      ['machine_id', h.machineId ?? ''],
      ['system_uuid', h.systemUuid ?? ''],
    ]),
  );
  w.begin('machine_cpu_cores', 'gauge', 'Number of logical CPU cores.');
  w.sample(h.cpus);
  w.begin('machine_memory_bytes', 'gauge', 'Amount of memory installed on the machine.');
  w.sample(h.memoryBytes);
  w.setBase('');
}
