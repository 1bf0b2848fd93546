// The fleet as a source of Snapshots: each refresh runs the fixed set of
// instant queries (src/fleet/queries.ts) in parallel and maps the answers
// (src/fleet/mapping.ts). Asynchronous, unlike the local Collector: the CLI
// drives it and hands each snapshot to the dashboard or the printer.

import type { FleetSnapshot } from '../model/types.js';
import { fleetSnapshot, type FleetAnswers } from './mapping.js';
import type { PrometheusClient } from './prometheus.js';
import {
  detailQuery,
  FIELD_LABEL,
  fleetQueries,
  keyedScope,
  ranksInPromql,
  topQueries,
  type TopView,
  type DetailField,
  type FleetQueries,
  type QueryScope,
} from './queries.js';

export interface FleetSourceOptions {
  client: PrometheusClient;
  scope: QueryScope;
  /** Evaluate in the past (epoch ms, from --at); undefined = now. */
  atMs?: number;
  now?: () => number;
}

export class FleetSource {
  readonly queries: FleetQueries;
  private readonly started = performance.now();

  constructor(private readonly options: FleetSourceOptions) {
    this.queries = fleetQueries(options.scope);
  }

  get label(): string {
    return this.options.client.label;
  }

  /**
   * One refresh. Without a view (snapshot): every row, four instant
   * queries. With one (the dashboard): the view's first rows only, six
   * instant queries in two rounds (the keys by topk, the total and the
   * targets; then the values, labels and info of those keys).
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
    const top = topQueries(scope, view);
    const [ranked, targets, total] = await Promise.all([
      client.query(top.keys, t.at),
      client.query(this.queries.targets, t.at),
      client.query(top.total, t.at),
    ]);
    const keys: [string, string][] = [];
    for (const s of ranked) {
      if (s.metric.instance !== undefined && s.metric.id !== undefined) keys.push([s.metric.instance, s.metric.id]);
    }
    const ranks = keys.length;
    for (const p of view.pinned ?? []) if (!keys.some((k) => k[0] === p[0] && k[1] === p[1])) keys.push(p);
    let answers: FleetAnswers = { values: [], identity: [], info: [], targets };
    if (keys.length > 0) {
      const q = fleetQueries(keyedScope(scope, keys));
      const [values, identity, info] = await Promise.all([
        client.query(q.values, t.at),
        client.query(q.identity, t.at),
        client.query(q.info, t.at),
      ]);
      answers = { values, identity, info, targets };
    }
    const by = ranksInPromql(view.sort) ? view.sort : 'cpu';
    const count = total[0]?.value ?? 0;
    return fleetSnapshot(answers, {
      source: client.label,
      timestampMs: t.nowMs,
      monotonicSeconds: t.monotonicSeconds,
      only: keys,
      summary: ranks < count ? `top ${ranks} of ${count} cgroups by ${by}` : `${count} cgroups`,
    });
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
