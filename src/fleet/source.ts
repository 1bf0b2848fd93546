// The fleet as a source of Snapshots: each refresh runs the fixed set of
// instant queries (src/fleet/queries.ts) in parallel and maps the answers
// (src/fleet/mapping.ts). Asynchronous, unlike the local Collector: the CLI
// drives it and hands each snapshot to the dashboard or the printer.

import type { FleetSnapshot } from '../model/types.js';
import { fleetSnapshot, type FleetAnswers } from './mapping.js';
import { narrowedQueries, narrowedValues } from './narrowed.js';
import type { PrometheusClient, VectorSample } from './prometheus.js';
import {
  detailQuery,
  FIELD_LABEL,
  fleetQueries,
  chooseRanking,
  keyedScope,
  rankingRule,
  ranksInPromql,
  topQueries,
  type TopView,
  type DetailField,
  type FleetQueries,
  type QueryScope,
  type RuleCoverage,
} from './queries.js';

/** How often the dashboard's refresh counts every row in scope (the header's "of N"). */
const TOTAL_EVERY_MS = 30_000;

export interface FleetSourceOptions {
  client: PrometheusClient;
  scope: QueryScope;
  /** Evaluate in the past (epoch ms, from --at); undefined = now. */
  atMs?: number;
  now?: () => number;
  /** Rank by the recording rules of deploy/prometheus/tstop-rules.yml when they cover the scope (default true). */
  rankingRules?: boolean;
}

export class FleetSource {
  readonly queries: FleetQueries;
  private readonly started = performance.now();
  /** The number of rows in scope, from the dashboard's last count. */
  private total: number | null = null;
  /** What the last count found of the ranking rules' series (null: not counted, or no rule for the sort). */
  private coverage: RuleCoverage | null = null;
  /** A count running alongside the refreshes, and when the last one started (null: none, or it failed). */
  private counting: Promise<void> | null = null;
  private countStartedAt: number | null = null;

  constructor(private readonly options: FleetSourceOptions) {
    this.queries = fleetQueries(options.scope);
  }

  get label(): string {
    return this.options.client.label;
  }

  /**
   * One refresh. Without a view (snapshot): every row, four instant
   * queries. With one (the dashboard): the view's first rows only, at most
   * seven instant queries: the keys by topk (from the recording rules when
   * they cover the scope), then the raw gauges and counters, labels and info
   * of those keys (narrowed.ts); the targets alongside both, and every 30 s
   * the count of all rows and of the rules' series alongside the refreshes.
   */
  async refresh(view?: TopView): Promise<FleetSnapshot> {
    const { client, atMs } = this.options;
    const nowMs = atMs ?? (this.options.now ?? Date.now)();
    const at = atMs === undefined ? undefined : atMs / 1000;
    const monotonicSeconds = (performance.now() - this.started) / 1000;
    if (view) return this.refreshTop(view, { nowMs, at, monotonicSeconds });
    const q = this.queries;
    const [values, identity, info, targets] = await Promise.all([
      client.query(q.values, at),
      client.query(q.identity, at),
      client.query(q.info, at),
      client.query(q.targets, at),
    ]);
    const answers: FleetAnswers = { values, identity, info, targets };
    return fleetSnapshot(answers, { source: client.label, timestampMs: nowMs, monotonicSeconds });
  }

  private async refreshTop(
    view: TopView,
    t: { nowMs: number; at: number | undefined; monotonicSeconds: number },
  ): Promise<FleetSnapshot> {
    const { client, scope } = this.options;
    const probe = this.options.rankingRules !== false;
    const ranking = probe ? chooseRanking(scope, view, this.coverage) : 'raw';
    const top = topQueries(scope, view, { ranking, probe });
    // The targets (up, machine size of every instance) do not depend on the ranking: they run
    // alongside both rounds, not within the first (with a top rule, the longer query there).
    const targetsAnswer = client.query(this.queries.targets, t.at);
    targetsAnswer.catch(() => {}); // awaited below; a failed ranking must not leave it unhandled
    const ranked = await client.query(top.keys, t.at);
    // The fleet's size changes slowly: counted at most every TOTAL_EVERY_MS, alongside the
    // refreshes (it costs Prometheus as much as ranking every row), once the ranking is in so
    // as not to slow it: this refresh uses the answer if it is in by its end, the next ones
    // otherwise.
    const now = performance.now();
    if (!this.counting && (this.countStartedAt === null || now - this.countStartedAt >= TOTAL_EVERY_MS)) {
      this.countStartedAt = now;
      this.counting = client
        .query(top.total, t.at)
        .then(
          (answer) => this.counted(answer, view),
          () => {
            this.countStartedAt = null; // counted again by the next refresh
          },
        )
        .finally(() => (this.counting = null));
    }
    const keys: [string, string][] = [];
    for (const s of ranked) {
      if (s.metric.instance !== undefined && s.metric.id !== undefined) keys.push([s.metric.instance, s.metric.id]);
    }
    const ranks = keys.length;
    for (const p of view.pinned ?? []) if (!keys.some((k) => k[0] === p[0] && k[1] === p[1])) keys.push(p);
    let answers: FleetAnswers = { values: [], identity: [], info: [], targets: [] };
    if (keys.length === 0) answers.targets = await targetsAnswer;
    else {
      const narrowed = keyedScope(scope, keys);
      const q = fleetQueries(narrowed);
      const raw = narrowedQueries(narrowed);
      const [gauges, counters, identity, info, targets] = await Promise.all([
        client.query(raw.gauges, t.at),
        client.queryMatrix(raw.counters, t.at),
        client.query(q.identity, t.at),
        client.query(q.info, t.at),
        targetsAnswer,
      ]);
      answers = { values: narrowedValues(gauges, counters), identity, info, targets };
    }
    const by = ranksInPromql(view.sort) ? view.sort : 'cpu';
    // Until the first count is in: the rows ranked, "top" when the view is full.
    const count = this.total ?? (ranks < view.n ? ranks : null);
    return fleetSnapshot(answers, {
      source: client.label,
      timestampMs: t.nowMs,
      monotonicSeconds: t.monotonicSeconds,
      only: keys,
      summary:
        count === null
          ? `top ${ranks} cgroups by ${by}`
          : ranks < count
            ? `top ${ranks} of ${count} cgroups by ${by}`
            : `${count} cgroups`,
    });
  }

  /** Resolves when the count running alongside the refreshes (if any) is in (tests, benchmarks). */
  async whenCounted(): Promise<void> {
    await this.counting;
  }

  /** Takes a count's answer: untagged (no rule for the view) or tagged `rows`, `ranked`, `top`. */
  private counted(answer: VectorSample[], view: TopView): void {
    const tagged = (tag: keyof RuleCoverage): number => answer.find((s) => s.metric[FIELD_LABEL] === tag)?.value ?? 0;
    const untagged = answer.length === 1 && answer[0].metric[FIELD_LABEL] === undefined;
    const rows = untagged ? answer[0].value : tagged('rows');
    this.total = rows;
    // A count without the rules (a sort they do not rank) leaves what the last one found.
    if (!untagged && rankingRule(this.options.scope, view.sort)) {
      this.coverage = { rows, ranked: tagged('ranked'), top: tagged('top') };
    }
  }

  /**
   * The detail view's history of one container over the last `spanSeconds`
   * (before --at): one range query, `points` steps.
   */
  async history(instance: string, cgroupPath: string, spanSeconds = 3600, points = 120): Promise<DetailHistory> {
    const endSeconds = Math.floor((this.options.atMs ?? (this.options.now ?? Date.now)()) / 1000);
    const stepSeconds = Math.max(1, Math.round(spanSeconds / points));
    const windowSeconds = Math.max(stepSeconds, Number(/^(\d+)s$/.exec(this.options.scope.window)?.[1] ?? 60));
    const expr = detailQuery(this.options.scope, instance, cgroupPath, `${windowSeconds}s`);
    const result = await this.options.client.queryRange(expr, endSeconds - spanSeconds, endSeconds, stepSeconds);
    const series: Partial<Record<DetailField, [number, number][]>> = {};
    for (const r of result) {
      const field = r.metric[FIELD_LABEL] as DetailField | undefined;
      if (field !== undefined) series[field] = r.points;
    }
    return { startSeconds: endSeconds - spanSeconds, endSeconds, stepSeconds, series };
  }
}

/** One container's chart series from a range query: [epoch seconds, value] points per field. */
export interface DetailHistory {
  startSeconds: number;
  endSeconds: number;
  stepSeconds: number;
  series: Partial<Record<DetailField, [number, number][]>>;
}
