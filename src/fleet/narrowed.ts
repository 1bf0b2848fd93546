// The dashboard's values for its few rows, in two queries instead of one
// PromQL expression per field: every raw gauge series of those rows in one
// selector, every counter series with its samples over the window in another
// (a range selector), then each field of FIELD_SOURCES computed here. With
// the rows' cgroup paths as a regex set in every field, the tagged query of
// the full refresh repeats that set forty times (half a megabyte of PromQL
// for 200 rows) and costs Prometheus seconds; these two cost milliseconds.
// Rates are the increase between the first and last sample in the window
// (counter resets handled) over their time span: Prometheus's rate() without
// its extrapolation to the window's edges.

import type { RangeSeries, VectorSample } from './prometheus.js';
import { FIELD_LABEL, FIELD_SOURCES, promString, type QueryScope, type ValueField } from './queries.js';

const INSTANT = new Set(['max', 'sum', 'min']);

function names(counter: boolean): string[] {
  const set = new Set<string>();
  for (const [metric, how] of Object.values(FIELD_SOURCES)) if (INSTANT.has(how) !== counter) set.add(metric);
  return [...set].sort();
}

function selector(scope: QueryScope, metrics: string[]): string {
  const m = [`__name__=~${promString(metrics.join('|'))}`, scope.matchers].filter(Boolean).join(',');
  return `{${m}}`;
}

/** The two queries of the narrowed scope (keyedScope): instant gauges, and counters over the window. */
export function narrowedQueries(scope: QueryScope): { gauges: string; counters: string } {
  return {
    gauges: selector(scope, names(false)),
    counters: `${selector(scope, names(true))}[${scope.window}]`,
  };
}

/** The increase of a counter over its samples (a drop is a reset: the new value counts from 0). */
export function counterIncrease(points: [number, number][]): { increase: number; seconds: number } | null {
  if (points.length < 2) return null;
  let increase = 0;
  for (let i = 1; i < points.length; i++) {
    const d = points[i][1] - points[i - 1][1];
    increase += d >= 0 ? d : points[i][1];
  }
  return { increase, seconds: points[points.length - 1][0] - points[0][0] };
}

const keyOf = (m: Record<string, string>): string | null =>
  m.instance === undefined || m.id === undefined ? null : `${m.instance}\u0000${m.id}`;

/** The answers as the full refresh's values query gives them: one sample per (instance, id, field). */
export function narrowedValues(gauges: VectorSample[], counters: RangeSeries[]): VectorSample[] {
  type Acc = { instance: string; id: string; value: number };
  const byField = new Map<ValueField, Map<string, Acc>>();
  const add = (field: ValueField, how: string, m: Record<string, string>, v: number): void => {
    const k = keyOf(m);
    if (k === null || Number.isNaN(v)) return;
    let map = byField.get(field);
    if (!map) byField.set(field, (map = new Map()));
    const acc = map.get(k);
    if (!acc) map.set(k, { instance: m.instance, id: m.id, value: v });
    else if (how === 'max') acc.value = Math.max(acc.value, v);
    else if (how === 'min') acc.value = Math.min(acc.value, v);
    else acc.value += v;
  };
  const fieldsOf = new Map<string, [ValueField, string][]>();
  for (const [field, [metric, how]] of Object.entries(FIELD_SOURCES) as [ValueField, readonly [string, string]][]) {
    const list = fieldsOf.get(metric) ?? [];
    list.push([field, how]);
    fieldsOf.set(metric, list);
  }
  for (const s of gauges) {
    for (const [field, how] of fieldsOf.get(s.metric.__name__ ?? '') ?? []) {
      if (INSTANT.has(how)) add(field, how, s.metric, s.value);
    }
  }
  for (const s of counters) {
    const inc = counterIncrease(s.points);
    if (!inc) continue;
    for (const [field, how] of fieldsOf.get(s.metric.__name__ ?? '') ?? []) {
      if (how === 'rate' && inc.seconds > 0) add(field, 'sum', s.metric, inc.increase / inc.seconds);
      else if (how === 'increase') add(field, 'sum', s.metric, inc.increase);
    }
  }
  const out: VectorSample[] = [];
  for (const [field, map] of byField) {
    for (const a of map.values())
      out.push({ metric: { instance: a.instance, id: a.id, [FIELD_LABEL]: field }, value: a.value });
  }
  return out;
}
