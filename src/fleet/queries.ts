// The PromQL of one fleet refresh. Its cost is fixed whatever the fleet size:
// every per-container figure comes back from ONE instant query (each field
// tagged with a `tstop_field` label by label_replace and joined with `or`),
// plus one each for the container labels, tstop's info series and the
// targets (up, machine size). No per-host or per-container loops.

import { PrometheusUsageError } from './prometheus.js';

/** The label that says which field a series of the values query carries. */
export const FIELD_LABEL = 'tstop_field';

/** Every series is keyed by these: the scrape target and the cgroup path. */
const KEY = 'instance, id';

export interface QueryScope {
  /** Matchers from --match without the braces, e.g. `job="tstop",env="prod"`; '' for none. */
  matchers: string;
  /** The window of rate() and increase(), in Prometheus duration form ("1m"). */
  window: string;
}

/** `{job="x"}` → `job="x"`; a selector with a metric name or no braces is refused. */
export function parseMatchSelector(text: string): string {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) {
    throw new PrometheusUsageError(`--match: '${text}' is not a label selector such as {job="tstop",env="prod"}`);
  }
  return t.slice(1, -1).trim().replace(/,$/, '');
}

/** A PromQL string literal (Go escapes; JSON's are a subset Prometheus accepts). */
export function promString(s: string): string {
  return JSON.stringify(s);
}

/** The scope's matchers plus `instance=~REGEX` from --instance. */
export function scopeMatchers(match: string | undefined, instanceRegex: string | undefined): string {
  const parts: string[] = [];
  if (match !== undefined) {
    const m = parseMatchSelector(match);
    if (m) parts.push(m);
  }
  if (instanceRegex !== undefined) {
    try {
      new RegExp(instanceRegex);
    } catch (err) {
      throw new PrometheusUsageError(
        `--instance: '${instanceRegex}' is not a regular expression (${(err as Error).message})`,
      );
    }
    parts.push(`instance=~${promString(instanceRegex)}`);
  }
  return parts.join(',');
}

/** A selector of `metric` within the scope, with extra matchers. */
function sel(scope: QueryScope, metric: string, extra = ''): string {
  const m = [scope.matchers, extra].filter(Boolean).join(',');
  return `${metric}{${m}}`;
}

type Build = (scope: QueryScope) => string;

const gauge =
  (metric: string, agg = 'max'): Build =>
  (s) =>
    `${agg} by (${KEY}) (${sel(s, metric)})`;
const rate =
  (metric: string): Build =>
  (s) =>
    `sum by (${KEY}) (rate(${sel(s, metric)}[${s.window}]))`;

/** Field name → PromQL, in one table. Counters summed over their extra labels (cpu, device, interface). */
export const VALUE_FIELDS = {
  cpuRate: rate('container_cpu_usage_seconds_total'),
  cpuSeconds: gauge('container_cpu_usage_seconds_total', 'sum'),
  cpuUserSeconds: gauge('container_cpu_user_seconds_total'),
  cpuSystemSeconds: gauge('container_cpu_system_seconds_total'),
  cpuQuota: gauge('container_spec_cpu_quota'),
  cpuPeriod: gauge('container_spec_cpu_period'),
  cfsPeriodsRate: rate('container_cpu_cfs_periods_total'),
  cfsThrottledRate: rate('container_cpu_cfs_throttled_periods_total'),
  cfsThrottledSeconds: gauge('container_cpu_cfs_throttled_seconds_total'),
  memUsage: gauge('container_memory_usage_bytes'),
  memMaxUsage: gauge('container_memory_max_usage_bytes'),
  memWorkingSet: gauge('container_memory_working_set_bytes'),
  memRss: gauge('container_memory_rss'),
  memCache: gauge('container_memory_cache'),
  memSwap: gauge('container_memory_swap'),
  memMappedFile: gauge('container_memory_mapped_file'),
  memLimit: gauge('container_spec_memory_limit_bytes'),
  memHigh: gauge('tstop_container_memory_high_bytes'),
  oomKills: gauge('container_oom_events_total'),
  oomKillsRecent: (s) => `sum by (${KEY}) (increase(${sel(s, 'container_oom_events_total')}[${s.window}]))`,
  ioReadRate: rate('container_fs_reads_bytes_total'),
  ioWriteRate: rate('container_fs_writes_bytes_total'),
  netRxRate: rate('container_network_receive_bytes_total'),
  netTxRate: rate('container_network_transmit_bytes_total'),
  netRxBytes: gauge('container_network_receive_bytes_total', 'sum'),
  netTxBytes: gauge('container_network_transmit_bytes_total', 'sum'),
  threads: gauge('container_threads'),
  threadsMax: gauge('container_threads_max'),
  processes: gauge('container_processes'),
  pidsLimit: gauge('tstop_container_pids_limit'),
  memPsiSomeAvg10: gauge('tstop_container_pressure_memory_waiting_avg10_ratio'),
  memPsiFullAvg10: gauge('tstop_container_pressure_memory_stalled_avg10_ratio'),
  cpuPsiSomeAvg10: gauge('tstop_container_pressure_cpu_waiting_avg10_ratio'),
  ioPsiSomeAvg10: gauge('tstop_container_pressure_io_waiting_avg10_ratio'),
  // cAdvisor has only the PSI totals: their rate over the window stands in for avg10.
  memPsiSomeRate: rate('container_pressure_memory_waiting_seconds_total'),
  memPsiFullRate: rate('container_pressure_memory_stalled_seconds_total'),
  cpuPsiSomeRate: rate('container_pressure_cpu_waiting_seconds_total'),
  ioPsiSomeRate: rate('container_pressure_io_waiting_seconds_total'),
  memPsiSomeSeconds: gauge('container_pressure_memory_waiting_seconds_total'),
  startTime: gauge('container_start_time_seconds', 'min'),
} satisfies Record<string, Build>;

export type ValueField = keyof typeof VALUE_FIELDS;

/** Labels that name a container (cAdvisor's and kubelet's). */
export const IDENTITY_LABELS = ['instance', 'id', 'name', 'image', 'namespace', 'pod', 'container'] as const;

export interface FleetQueries {
  values: string;
  identity: string;
  info: string;
  targets: string;
}

export const TARGET_FIELDS = {
  up: (s: QueryScope) => `max by (instance) (${sel(s, 'up')})`,
  cpus: (s: QueryScope) => `max by (instance) (${sel(s, 'machine_cpu_cores')})`,
  memoryBytes: (s: QueryScope) => `max by (instance) (${sel(s, 'machine_memory_bytes')})`,
} satisfies Record<string, Build>;

export type TargetField = keyof typeof TARGET_FIELDS;

function tagged(fields: Record<string, Build>, scope: QueryScope): string {
  return Object.entries(fields)
    .map(([name, build]) => `label_replace(${build(scope)}, "${FIELD_LABEL}", "${name}", "", "")`)
    .join(' or ');
}

/** The four instant queries of one refresh. */
export function fleetQueries(scope: QueryScope): FleetQueries {
  const containerSeries = sel(scope, '', '__name__=~"container_last_seen|container_memory_usage_bytes"');
  return {
    values: tagged(VALUE_FIELDS, scope),
    identity: `group by (${IDENTITY_LABELS.join(', ')}) (${containerSeries})`,
    info: `max by (instance, id, runtime, container_id) (${sel(scope, 'tstop_container_info')})`,
    targets: tagged(TARGET_FIELDS, scope),
  };
}

/**
 * The detail view's charts of one container, as ONE range query: each series
 * tagged with `tstop_field` (the chart series names of ui/view/history.ts).
 * `rateWindow` is at least the step, so no sample falls between two points.
 */
export const DETAIL_FIELDS = {
  cpu: (s: QueryScope) => `100 * ${VALUE_FIELDS.cpuRate(s)}`,
  // The working set where there is one (as the table), else the usage: `or` keeps the left side.
  mem: (s: QueryScope) => `${VALUE_FIELDS.memWorkingSet(s)} or ${VALUE_FIELDS.memUsage(s)}`,
  memLimit: (s: QueryScope) => `${VALUE_FIELDS.memLimit(s)} > 0`,
  ioRead: VALUE_FIELDS.ioReadRate,
  ioWrite: VALUE_FIELDS.ioWriteRate,
  netRx: VALUE_FIELDS.netRxRate,
  netTx: VALUE_FIELDS.netTxRate,
} satisfies Record<string, Build>;

export type DetailField = keyof typeof DETAIL_FIELDS;

export function detailQuery(scope: QueryScope, instance: string, id: string, rateWindow: string): string {
  const one = `instance=${promString(instance)},id=${promString(id)}`;
  const s: QueryScope = { matchers: [scope.matchers, one].filter(Boolean).join(','), window: rateWindow };
  return tagged(DETAIL_FIELDS, s);
}

// ---- the dashboard's refresh: only the rows it can show (topk) ----

/** What the dashboard shows: the first `n` rows by `sort` (a dashboard sort key), matching `filter`. */
export interface TopView {
  n: number;
  sort: string;
  reverse: boolean;
  /** The dashboard's filter as typed: a case-insensitive regex, or literal text when not one. */
  filter: string;
  /** Rows always fetched (the detail view's), as [instance, cgroup path]. */
  pinned?: [string, string][];
}

const sum2 =
  (a: Build, b: Build): Build =>
  (s) =>
    `(${a(s)} + ${b(s)}) or ${a(s)} or ${b(s)}`;

/** Dashboard sort key → the PromQL value to rank by; text keys (name, path, runtime) rank by CPU. */
export const SORT_EXPRESSIONS: Record<string, Build> = {
  cpu: VALUE_FIELDS.cpuRate,
  mem: (s) => `${VALUE_FIELDS.memWorkingSet(s)} or ${VALUE_FIELDS.memUsage(s)}`,
  memPct: (s) => `${VALUE_FIELDS.memWorkingSet(s)} / (${VALUE_FIELDS.memLimit(s)} > 0)`,
  io: sum2(VALUE_FIELDS.ioReadRate, VALUE_FIELDS.ioWriteRate),
  ioRead: VALUE_FIELDS.ioReadRate,
  ioWrite: VALUE_FIELDS.ioWriteRate,
  net: sum2(VALUE_FIELDS.netRxRate, VALUE_FIELDS.netTxRate),
  netRx: VALUE_FIELDS.netRxRate,
  netTx: VALUE_FIELDS.netTxRate,
  pids: VALUE_FIELDS.threads,
  quota: (s) => `${VALUE_FIELDS.cpuRate(s)} / (${VALUE_FIELDS.cpuQuota(s)} > 0) * ${VALUE_FIELDS.cpuPeriod(s)}`,
  throttled: (s) => `${VALUE_FIELDS.cfsThrottledRate(s)} / (${VALUE_FIELDS.cfsPeriodsRate(s)} > 0)`,
  psi: (s) => `${VALUE_FIELDS.memPsiSomeAvg10(s)} or ${VALUE_FIELDS.memPsiSomeRate(s)}`,
};

/** Whether the dashboard's sort key ranks in PromQL (else CPU ranks, and the dashboard sorts what comes back). */
export function ranksInPromql(sort: string): boolean {
  return sort in SORT_EXPRESSIONS;
}

/** A regex as the dashboard's filter reads it, for RE2: invalid JS → the literal text. */
function filterRegex(text: string): string {
  try {
    new RegExp(text);
    return text;
  } catch {
    return escapeRegex(text);
  }
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The series of the containers the filter matches on one label (name, id,
 * image, instance), or on "<instance>/<path>" as the fleet row id reads
 * (the filter split at its first "/": the instance ends with the left part,
 * the path starts with the right one).
 */
function filterSet(scope: QueryScope, filter: string): string {
  const re = filterRegex(filter);
  const series = (m: string): string =>
    `group by (${KEY}) (${sel(scope, 'container_last_seen', m)} or ${sel(scope, 'container_memory_usage_bytes', m)})`;
  const clauses = ['name', 'id', 'image', 'instance'].map((l) => series(`${l}=~${promString(`(?i).*(?:${re}).*`)}`));
  const slash = filter.indexOf('/');
  if (slash > 0) {
    const left = filterRegex(filter.slice(0, slash));
    const right = filterRegex(filter.slice(slash + 1));
    clauses.push(series(`instance=~${promString(`(?i).*(?:${left})`)},id=~${promString(`(?i)/(?:${right}).*`)}`));
  }
  return clauses.join(' or ');
}

/** The keys query (the first n rows) and the count of every row in scope. */
export function topQueries(scope: QueryScope, view: TopView): { keys: string; total: string } {
  const containerSeries = sel(scope, '', '__name__=~"container_last_seen|container_memory_usage_bytes"');
  // Rows without the value (no limit for memPct ...) rank last, as the dashboard sorts them: -Inf (+Inf reversed).
  const unranked = `group by (${KEY}) (${containerSeries}) * ${view.reverse ? '+Inf' : '-Inf'}`;
  const rank = `(${(SORT_EXPRESSIONS[view.sort] ?? SORT_EXPRESSIONS.cpu)(scope)}) or ${unranked}`;
  const ranked = view.filter ? `(${rank}) and on (${KEY}) (${filterSet(scope, view.filter)})` : rank;
  // Highest first; reversed, lowest first.
  const top = `${view.reverse ? 'bottomk' : 'topk'}(${Math.max(1, Math.floor(view.n))}, ${ranked})`;
  return {
    keys: `group by (${KEY}) (${top})`,
    total: `count(group by (${KEY}) (${containerSeries}))`,
  };
}

/** The scope narrowed to these (instance, cgroup path) keys: two regex sets, which Prometheus looks up in its index. */
export function keyedScope(scope: QueryScope, keys: [string, string][]): QueryScope {
  const set = (values: string[]): string => [...new Set(values)].sort().map(escapeRegex).join('|');
  const instances = set(keys.map((k) => k[0]));
  const ids = set(keys.map((k) => k[1]));
  const narrowed = `instance=~${promString(instances)},id=~${promString(ids)}`;
  return { ...scope, matchers: [scope.matchers, narrowed].filter(Boolean).join(',') };
}
