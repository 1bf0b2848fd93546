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

/** How a field reads its metric: an aggregation of the instant value by (instance, id), or of a rate. */
type How = 'max' | 'sum' | 'min' | 'rate' | 'increase';

/**
 * Field name → [metric, how], in one table. Counters are summed over their
 * extra labels (cpu, device, interface). The full refresh turns each row
 * into PromQL (VALUE_FIELDS); the dashboard's narrowed refresh fetches the
 * raw series and applies it in narrowed.ts.
 */
export const FIELD_SOURCES = {
  cpuRate: ['container_cpu_usage_seconds_total', 'rate'],
  cpuSeconds: ['container_cpu_usage_seconds_total', 'sum'],
  cpuUserSeconds: ['container_cpu_user_seconds_total', 'max'],
  cpuSystemSeconds: ['container_cpu_system_seconds_total', 'max'],
  cpuQuota: ['container_spec_cpu_quota', 'max'],
  cpuPeriod: ['container_spec_cpu_period', 'max'],
  cfsPeriodsRate: ['container_cpu_cfs_periods_total', 'rate'],
  cfsThrottledRate: ['container_cpu_cfs_throttled_periods_total', 'rate'],
  cfsThrottledSeconds: ['container_cpu_cfs_throttled_seconds_total', 'max'],
  memUsage: ['container_memory_usage_bytes', 'max'],
  memMaxUsage: ['container_memory_max_usage_bytes', 'max'],
  memWorkingSet: ['container_memory_working_set_bytes', 'max'],
  memRss: ['container_memory_rss', 'max'],
  memCache: ['container_memory_cache', 'max'],
  memSwap: ['container_memory_swap', 'max'],
  memMappedFile: ['container_memory_mapped_file', 'max'],
  memLimit: ['container_spec_memory_limit_bytes', 'max'],
  memHigh: ['tstop_container_memory_high_bytes', 'max'],
  oomKills: ['container_oom_events_total', 'max'],
  oomKillsRecent: ['container_oom_events_total', 'increase'],
  ioReadRate: ['container_fs_reads_bytes_total', 'rate'],
  ioWriteRate: ['container_fs_writes_bytes_total', 'rate'],
  netRxRate: ['container_network_receive_bytes_total', 'rate'],
  netTxRate: ['container_network_transmit_bytes_total', 'rate'],
  netRxBytes: ['container_network_receive_bytes_total', 'sum'],
  netTxBytes: ['container_network_transmit_bytes_total', 'sum'],
  threads: ['container_threads', 'max'],
  threadsMax: ['container_threads_max', 'max'],
  processes: ['container_processes', 'max'],
  pidsLimit: ['tstop_container_pids_limit', 'max'],
  memPsiSomeAvg10: ['tstop_container_pressure_memory_waiting_avg10_ratio', 'max'],
  memPsiFullAvg10: ['tstop_container_pressure_memory_stalled_avg10_ratio', 'max'],
  cpuPsiSomeAvg10: ['tstop_container_pressure_cpu_waiting_avg10_ratio', 'max'],
  ioPsiSomeAvg10: ['tstop_container_pressure_io_waiting_avg10_ratio', 'max'],
  // cAdvisor has only the PSI totals: their rate over the window stands in for avg10.
  memPsiSomeRate: ['container_pressure_memory_waiting_seconds_total', 'rate'],
  memPsiFullRate: ['container_pressure_memory_stalled_seconds_total', 'rate'],
  cpuPsiSomeRate: ['container_pressure_cpu_waiting_seconds_total', 'rate'],
  ioPsiSomeRate: ['container_pressure_io_waiting_seconds_total', 'rate'],
  memPsiSomeSeconds: ['container_pressure_memory_waiting_seconds_total', 'max'],
  startTime: ['container_start_time_seconds', 'min'],
} as const satisfies Record<string, readonly [string, How]>;

export type ValueField = keyof typeof FIELD_SOURCES;

function build(metric: string, how: How): Build {
  if (how === 'rate') return (s) => `sum by (${KEY}) (rate(${sel(s, metric)}[${s.window}]))`;
  if (how === 'increase') return (s) => `sum by (${KEY}) (increase(${sel(s, metric)}[${s.window}]))`;
  return (s) => `${how} by (${KEY}) (${sel(s, metric)})`;
}

/** Field name → PromQL (an aggregation by instance and id). */
export const VALUE_FIELDS = Object.fromEntries(
  Object.entries(FIELD_SOURCES).map(([field, [metric, how]]) => [field, build(metric, how)]),
) as Record<ValueField, Build>;

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

/** Sort keys every container has a value for (cAdvisor and tstop export them for all). */
const DENSE_SORTS = ['cpu', 'mem'];

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

/**
 * Recording rules the ranking reads instead of computing every container's
 * value (deploy/prometheus/tstop-rules.yml), by sort key: the rule of every
 * container's value (labels instance, job, id) and the rule of the first
 * `rows` of each job by it, with the rate window they record.
 */
export const RANKING_RULES: Record<string, { record: string; window: string; top: { record: string; rows: number } }> =
  {
    cpu: {
      record: 'tstop:container_cpu_usage_seconds:rate1m',
      window: '1m',
      top: { record: 'tstop:container_cpu_usage_seconds:rate1m_top500', rows: 500 },
    },
  };

/** The labels the value rule keeps (sum by) and the one the top rule ranks within (topk by). */
const RULE_LABELS = new Set(['instance', 'job', 'id']);
const TOP_RULE_LABELS = new Set(['job']);

/** The label names of a matcher list (`job="x",instance=~"y"`); null when it does not read as one. */
export function matcherLabels(matchers: string): string[] | null {
  const one =
    /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(?:,|$)/y;
  const names: string[] = [];
  one.lastIndex = 0;
  while (one.lastIndex < matchers.length) {
    const m = one.exec(matchers);
    if (!m) return null;
    names.push(m[1]);
  }
  return names;
}

/** The sort key the ranking ranks by: text keys (name, path, runtime) rank by CPU. */
export function rankedSort(sort: string): string {
  return ranksInPromql(sort) ? sort : 'cpu';
}

/** The ranking rules that can serve this sort in this scope (their coverage is checked by counting), if any. */
export function rankingRule(scope: QueryScope, sort: string): (typeof RANKING_RULES)[string] | null {
  const rule = RANKING_RULES[rankedSort(sort)];
  if (!rule || rule.window !== scope.window) return null;
  const labels = matcherLabels(scope.matchers);
  return labels !== null && labels.every((l) => RULE_LABELS.has(l)) ? rule : null;
}

/** What the last count found in scope: rows, and series of the value rule and of the top rule. */
export interface RuleCoverage {
  rows: number;
  ranked: number;
  top: number;
}

/** How a refresh ranks: computing every value, by the value rule, or by the top rule. */
export type Ranking = 'raw' | 'rule' | 'top';

/**
 * The cheapest ranking that gives the rows raw ranking would (as of the
 * rules' last evaluation). The top rule holds each job's first rows by the
 * value: it serves the unfiltered view of up to that many rows, highest
 * first, in a scope of whole jobs, when it holds at least that many series.
 */
export function chooseRanking(scope: QueryScope, view: TopView, coverage: RuleCoverage | null): Ranking {
  const rule = rankingRule(scope, view.sort);
  // Both rules need the value rule's series for every row (a Thanos over several Prometheus
  // with the rules loaded in one of them would otherwise rank only that one's rows).
  if (!rule || !coverage || coverage.rows === 0 || coverage.ranked < coverage.rows) return 'raw';
  const labels = matcherLabels(scope.matchers) ?? [];
  const topFits =
    !view.reverse && !view.filter && view.n <= rule.top.rows && labels.every((l) => TOP_RULE_LABELS.has(l));
  return topFits && coverage.top >= Math.min(rule.top.rows, coverage.rows) ? 'top' : 'rule';
}

/**
 * The keys query (the first n rows) and the count of every row in scope.
 * `ranking` (chooseRanking's answer) says what to rank by; with `probe`, the
 * count also counts the rules' series in scope (tagged `rows`, `ranked`,
 * `top`: a RuleCoverage) so the next refreshes can choose.
 */
export function topQueries(
  scope: QueryScope,
  view: TopView,
  options: { ranking?: Ranking; probe?: boolean } = {},
): { keys: string; total: string } {
  // One series per container in cAdvisor's data and tstop's.
  const containers = `group by (${KEY}) (${sel(scope, 'container_last_seen')})`;
  const sort = rankedSort(view.sort);
  const rule = rankingRule(scope, view.sort);
  const ranking = rule ? (options.ranking ?? 'raw') : 'raw';
  // The rules hold one series per (instance, job, id): no aggregation, the rows are the keys.
  const expr =
    ranking === 'top'
      ? sel(scope, rule!.top.record)
      : ranking === 'rule'
        ? sel(scope, rule!.record)
        : SORT_EXPRESSIONS[sort](scope);
  // Rows without the value (no limit for memPct ...) rank last, as the dashboard sorts them:
  // -Inf (+Inf reversed). CPU and memory are there for every container: no filling needed.
  const rank = DENSE_SORTS.includes(sort) ? expr : `(${expr}) or ${containers} * ${view.reverse ? '+Inf' : '-Inf'}`;
  const ranked = view.filter ? `(${rank}) and on (${KEY}) (${filterSet(scope, view.filter)})` : rank;
  // Highest first; reversed, lowest first.
  const top = `${view.reverse ? 'bottomk' : 'topk'}(${Math.max(1, Math.floor(view.n))}, ${ranked})`;
  const rows = `count(${containers})`;
  const tag = (expr: string, name: keyof RuleCoverage): string =>
    `label_replace(${expr}, "${FIELD_LABEL}", "${name}", "", "")`;
  return {
    keys: `group by (${KEY}) (${top})`,
    total:
      rule && options.probe
        ? [
            tag(rows, 'rows'),
            tag(`count(${sel(scope, rule.record)})`, 'ranked'),
            tag(`count(${sel(scope, rule.top.record)})`, 'top'),
          ].join(' or ')
        : rows,
  };
}

/**
 * The scope narrowed to the cgroup paths of these (instance, path) keys: a
 * regex set, which Prometheus looks up in its index. Not the instances too:
 * a set of hundreds of instances makes Prometheus union every series of
 * those hosts (ten times slower in the benchmark); a path shared by hosts
 * (/, /system.slice) brings a few extra rows, which the mapping drops.
 */
export function keyedScope(scope: QueryScope, keys: [string, string][]): QueryScope {
  const ids = [...new Set(keys.map((k) => k[1]))].sort().map(escapeRegex).join('|');
  const narrowed = `id=~${promString(ids)}`;
  return { ...scope, matchers: [scope.matchers, narrowed].filter(Boolean).join(',') };
}
