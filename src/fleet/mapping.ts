// Pure mapping from the answers of one fleet refresh (src/fleet/queries.ts)
// to the live Snapshot model: one ContainerSnapshot per (instance, cgroup),
// with `instance` set and an id that stays unique across hosts. What the
// metrics do not carry (processes, namespaces, device rules ...) is null or
// empty, as the snapshot schema says for unknown values.

import { classifyCgroupPath, RUNTIMES } from '../discovery/classify.js';
import type {
  ContainerSnapshot,
  FleetContainerSnapshot,
  FleetInstance,
  FleetSnapshot,
  HostInfo,
  NetworkInterface,
  PressureResource,
  Runtime,
} from '../model/types.js';
import type { VectorSample } from './prometheus.js';
import { FIELD_LABEL, type TargetField, type ValueField } from './queries.js';

export interface FleetAnswers {
  values: VectorSample[];
  identity: VectorSample[];
  info: VectorSample[];
  targets: VectorSample[];
}

export interface FleetContext {
  /** The Prometheus base URL, shown as the source. */
  source: string;
  /** When the data is from (now, or --at). */
  timestampMs: number;
  monotonicSeconds: number;
  /** Only these (instance, cgroup path) rows (the dashboard's top rows; the narrowed queries may return a few more). */
  only?: [string, string][];
  /** Appended to the header line (e.g. "top 200 of 50000 cgroups by cpu"). */
  summary?: string;
}

/**
 * The row id of a cgroup on an instance: "/<instance><path>", so that ids are
 * unique across hosts and the tree view groups by instance. "/" in the
 * instance label is escaped so the path keeps its shape.
 */
export function fleetId(instance: string, cgroupPath: string): string {
  const head = '/' + instance.replace(/%/g, '%25').replace(/\//g, '%2F');
  return cgroupPath === '/' ? head : head + cgroupPath;
}

/** The instance and cgroup path of a fleetId; null for an id that is not one. */
export function parseFleetId(id: string): { instance: string; path: string } | null {
  const m = /^\/([^/]+)(\/.*)?$/.exec(id);
  if (!m) return null;
  let instance: string;
  try {
    instance = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  return { instance, path: m[2] ?? '/' };
}

type Fields = Partial<Record<ValueField, number>>;

const key = (instance: string, id: string): string => `${instance}\u0000${id}`;

interface Entry {
  instance: string;
  path: string;
  fields: Fields;
  labels: Record<string, string>;
  runtime: string | null;
  containerId: string | null;
}

function finite(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/** cAdvisor exports "unlimited" and "unknown" limits as 0. */
function limit(v: number | undefined): number | null {
  const x = finite(v);
  return x === null || x <= 0 ? null : x;
}

function nonEmpty(s: string | undefined): string | null {
  return s === undefined || s === '' ? null : s;
}

function psiLine(avg10Ratio: number | null, totalSeconds: number | null): PressureResource['some'] {
  if (avg10Ratio === null) return null;
  // Only the 10 s average (or the window's rate) is queried: the longer averages are unknown (NaN → null in JSON).
  return { avg10: avg10Ratio * 100, avg60: NaN, avg300: NaN, totalSeconds: totalSeconds ?? NaN };
}

function psiResource(some: number | null, full: number | null, totalSeconds: number | null): PressureResource | null {
  if (some === null && full === null) return null;
  return { some: psiLine(some, totalSeconds), full: psiLine(full, null) };
}

function netInterfaces(f: Fields): NetworkInterface[] | null {
  const rx = finite(f.netRxRate);
  const tx = finite(f.netTxRate);
  if (f.netRxBytes === undefined && f.netTxBytes === undefined) return null;
  // The query sums the interfaces: one pseudo interface carries the totals.
  return [
    {
      interface: 'all',
      rxBytes: finite(f.netRxBytes) ?? 0,
      rxPackets: 0,
      rxErrors: 0,
      rxDropped: 0,
      txBytes: finite(f.netTxBytes) ?? 0,
      txPackets: 0,
      txErrors: 0,
      txDropped: 0,
      rxBytesPerSecond: rx,
      txBytesPerSecond: tx,
    },
  ];
}

function toRuntime(label: string | null, fallback: Runtime): Runtime {
  return label !== null && (RUNTIMES as readonly string[]).includes(label) ? (label as Runtime) : fallback;
}

const CONTAINER_LABEL_PREFIX = 'container_label_';

/** The runtime labels an exporter gave as container_label_<name> (names as sanitized there: com_docker_compose_project). */
function containerLabels(series: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(series)) {
    if (k.startsWith(CONTAINER_LABEL_PREFIX) && k.length > CONTAINER_LABEL_PREFIX.length) {
      out[k.slice(CONTAINER_LABEL_PREFIX.length)] = v;
    }
  }
  return out;
}

export function containerFromEntry(e: Entry): FleetContainerSnapshot {
  const f = e.fields;
  const cls = classifyCgroupPath(e.path);
  const runtime = toRuntime(e.runtime, cls.runtime);
  const k8s = {
    pod: nonEmpty(e.labels.pod),
    namespace: nonEmpty(e.labels.namespace),
    container: nonEmpty(e.labels.container),
  };
  const kubernetes =
    k8s.pod || k8s.namespace || k8s.container
      ? { ...k8s, podUid: cls.kubernetes?.podUid ?? null }
      : cls.kubernetes
        ? { pod: null, namespace: null, container: null, podUid: cls.kubernetes.podUid }
        : null;

  const cpuPercent = f.cpuRate === undefined ? null : finite(f.cpuRate * 100);
  const quotaUs = limit(f.cpuQuota);
  const periodUs = limit(f.cpuPeriod);
  const quotaCores = quotaUs !== null && periodUs !== null ? quotaUs / periodUs : null;
  const periodsRate = finite(f.cfsPeriodsRate);
  const throttledRate = finite(f.cfsThrottledRate);
  const throttledPercent =
    periodsRate === null || throttledRate === null ? null : periodsRate > 0 ? (throttledRate / periodsRate) * 100 : 0;
  const hasCpu = f.cpuSeconds !== undefined || f.cpuRate !== undefined || f.cpuPeriod !== undefined;
  const hasMemory = f.memUsage !== undefined || f.memWorkingSet !== undefined || f.memLimit !== undefined;
  const threads = finite(f.threads);
  const processes = finite(f.processes);

  return {
    id: fleetId(e.instance, e.path),
    instance: e.instance,
    name: nonEmpty(e.labels.name) ?? k8s.container ?? cls.name ?? e.path,
    runtime,
    containerId: nonEmpty(e.containerId ?? undefined) ?? cls.containerId,
    image: nonEmpty(e.labels.image),
    kubernetes,
    labels: containerLabels(e.labels),
    runtimeConfig: null,
    inode: 0,
    populated: (threads ?? processes ?? 1) > 0,
    processes: [],
    initPid: null,
    startTimeSeconds: limit(f.startTime),
    cpu: hasCpu
      ? {
          usageSeconds: finite(f.cpuSeconds),
          userSeconds: finite(f.cpuUserSeconds),
          systemSeconds: finite(f.cpuSystemSeconds),
          percent: cpuPercent,
          quotaPercent: cpuPercent !== null && quotaCores !== null ? cpuPercent / quotaCores : null,
          quotaCores,
          quotaMicroseconds: quotaUs,
          periodMicroseconds: periodUs,
          shares: null,
          weight: null,
          periods: null,
          throttledPeriods: null,
          throttledSeconds: finite(f.cfsThrottledSeconds),
          throttledPercent,
          cpus: null,
          mems: null,
        }
      : null,
    memory: hasMemory
      ? {
          usageBytes: finite(f.memUsage),
          maxUsageBytes: limit(f.memMaxUsage),
          workingSetBytes: finite(f.memWorkingSet),
          anonBytes: finite(f.memRss),
          fileBytes: finite(f.memCache),
          inactiveFileBytes: null,
          mappedFileBytes: finite(f.memMappedFile),
          swapBytes: finite(f.memSwap),
          kernelBytes: null,
          limitBytes: limit(f.memLimit),
          highBytes: limit(f.memHigh),
          softLimitBytes: null,
          lowBytes: null,
          minBytes: null,
          swapLimitBytes: null,
          failcnt: null,
          pageFaults: null,
          majorPageFaults: null,
          oomKills: finite(f.oomKills),
          events: null,
        }
      : null,
    io:
      f.ioReadRate !== undefined || f.ioWriteRate !== undefined
        ? {
            devices: [],
            limits: [],
            weight: null,
            readBytesPerSecond: finite(f.ioReadRate),
            writeBytesPerSecond: finite(f.ioWriteRate),
          }
        : null,
    pids:
      threads !== null || f.pidsLimit !== undefined
        ? { current: threads, limit: limit(f.pidsLimit) ?? limit(f.threadsMax), peak: null, limitHits: null }
        : null,
    devices: null,
    hugetlb: null,
    freezer: null,
    pressure: pressureOf(f),
    namespaces: null,
    capabilities: null,
    network: netInterfaces(f),
  };
}

function pressureOf(f: Fields): ContainerSnapshot['pressure'] {
  const pick = (tstop: number | undefined, cadvisor: number | undefined): number | null =>
    finite(tstop) ?? finite(cadvisor);
  const memory = psiResource(
    pick(f.memPsiSomeAvg10, f.memPsiSomeRate),
    pick(f.memPsiFullAvg10, f.memPsiFullRate),
    finite(f.memPsiSomeSeconds),
  );
  const cpu = psiResource(pick(f.cpuPsiSomeAvg10, f.cpuPsiSomeRate), null, null);
  const io = psiResource(pick(f.ioPsiSomeAvg10, f.ioPsiSomeRate), null, null);
  return memory || cpu || io ? { cpu, memory, io } : null;
}

/** The instances the targets query found, with their up state and size. */
export function instancesFrom(targets: VectorSample[]): FleetInstance[] {
  const byName = new Map<string, FleetInstance>();
  for (const s of targets) {
    const instance = s.metric.instance;
    const field = s.metric[FIELD_LABEL] as TargetField | undefined;
    if (instance === undefined || field === undefined) continue;
    let i = byName.get(instance);
    if (!i) {
      i = { instance, up: null, cpus: null, memoryBytes: null };
      byName.set(instance, i);
    }
    if (field === 'up') i.up = s.value === 1;
    else if (field === 'cpus') i.cpus = finite(s.value);
    else if (field === 'memoryBytes') i.memoryBytes = finite(s.value);
  }
  return [...byName.values()].sort((a, b) => (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
}

/** Groups the answers by (instance, cgroup path). */
function entries(answers: FleetAnswers, only?: [string, string][]): Entry[] {
  const map = new Map<string, Entry>();
  const wanted = only ? new Set(only.map(([i, p]) => key(i, p))) : null;
  const get = (m: Record<string, string>): Entry | null => {
    const { instance, id } = m;
    if (instance === undefined || id === undefined || !id.startsWith('/')) return null;
    const k = key(instance, id);
    if (wanted && !wanted.has(k)) return null;
    let e = map.get(k);
    if (!e) {
      e = { instance, path: id, fields: {}, labels: {}, runtime: null, containerId: null };
      map.set(k, e);
    }
    return e;
  };
  for (const s of answers.identity) {
    const e = get(s.metric);
    if (!e) continue;
    for (const [k, v] of Object.entries(s.metric)) if (v !== '' && e.labels[k] === undefined) e.labels[k] = v;
  }
  for (const s of answers.values) {
    const field = s.metric[FIELD_LABEL] as ValueField | undefined;
    if (field === undefined) continue;
    const e = get(s.metric);
    if (e) e.fields[field] = s.value;
  }
  for (const s of answers.info) {
    const e = map.get(key(s.metric.instance ?? '', s.metric.id ?? ''));
    if (!e) continue;
    e.runtime = nonEmpty(s.metric.runtime);
    e.containerId = nonEmpty(s.metric.container_id);
  }
  return [...map.values()];
}

function fleetHost(ctx: FleetContext, instances: FleetInstance[]): HostInfo {
  const up = instances.filter((i) => i.up).length;
  let memoryBytes = 0;
  let cpus = 0;
  for (const i of instances) {
    memoryBytes += i.memoryBytes ?? 0;
    cpus = Math.max(cpus, i.cpus ?? 0);
  }
  return {
    hostname: `fleet ${ctx.source}`,
    kernel: `${up}/${instances.length} instances up${ctx.summary ? `, ${ctx.summary}` : ''}`,
    cgroupMode: 'hybrid',
    // The largest instance's CPU count: the CPU bar of a row is against one host.
    cpus: cpus || 1,
    memoryBytes,
    memoryAvailableBytes: null,
    cpuUsageSeconds: 0,
    cpuPercent: null,
    pressure: null,
    namespaceReference: null,
    v2Controllers: [],
    machineId: null,
    bootId: null,
    systemUuid: null,
    network: null,
  };
}

/** The Snapshot of one refresh: containers of every instance, sorted by instance then path. */
export function fleetSnapshot(answers: FleetAnswers, ctx: FleetContext): FleetSnapshot {
  const instances = instancesFrom(answers.targets);
  const containers = entries(answers, ctx.only)
    .sort((a, b) => (a.instance === b.instance ? (a.path < b.path ? -1 : 1) : a.instance < b.instance ? -1 : 1))
    .map(containerFromEntry);
  const notes = instances.filter((i) => i.up === false).map((i) => `instance ${i.instance} is down (up == 0)`);
  if (instances.length === 0) notes.push(`no targets match at ${ctx.source}`);
  return {
    timestamp: new Date(ctx.timestampMs).toISOString(),
    monotonicSeconds: ctx.monotonicSeconds,
    host: fleetHost(ctx, instances),
    containers,
    notes,
    source: { kind: 'prometheus', url: ctx.source },
    instances,
  };
}
