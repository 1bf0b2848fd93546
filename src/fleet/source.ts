// The fleet as a source of Snapshots: each refresh runs the fixed set of
// instant queries (src/fleet/queries.ts) in parallel and maps the answers
// (src/fleet/mapping.ts). Asynchronous, unlike the local Collector: the CLI
// drives it and hands each snapshot to the dashboard or the printer.

import type { FleetSnapshot } from '../model/types.js';
import { fleetSnapshot, type FleetAnswers } from './mapping.js';
import type { PrometheusClient, RangeSeries } from './prometheus.js';
import { detailQueries, fleetQueries, type FleetQueries, type QueryScope } from './queries.js';

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

  /** One refresh: four instant queries, whatever the fleet size. */
  async refresh(): Promise<FleetSnapshot> {
    const { client, atMs } = this.options;
    const nowMs = atMs ?? (this.options.now ?? Date.now)();
    const at = atMs === undefined ? undefined : atMs / 1000;
    const monotonicSeconds = (performance.now() - this.started) / 1000;
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

  /** The detail view's history of one container over the last `spanSeconds`. */
  async history(
    instance: string,
    cgroupPath: string,
    spanSeconds = 3600,
    points = 120,
  ): Promise<Record<string, RangeSeries[]>> {
    const endSeconds = (this.options.atMs ?? Date.now()) / 1000;
    const step = Math.max(1, Math.round(spanSeconds / points));
    const out: Record<string, RangeSeries[]> = {};
    await Promise.all(
      Object.entries(detailQueries(this.options.scope, instance, cgroupPath)).map(async ([name, expr]) => {
        out[name] = await this.options.client.queryRange(expr, endSeconds - spanSeconds, endSeconds, step);
      }),
    );
    return out;
  }
}
