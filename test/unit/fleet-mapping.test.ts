// The fleet mapping on recorded Prometheus API answers (test/fixtures/fleet/tstop,
// recorded by test/integration/fleet.test.ts with TSTOP_RECORD_FLEET=DIR): two
// exporters on one host, a cgroup holding 64 MiB under a 256 MiB limit and a spinner.
// The cAdvisor case drops every tstop_* answer from the same data.

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetId, fleetSnapshot, type FleetAnswers } from '../../src/fleet/mapping.js';
import { parseVector } from '../../src/fleet/prometheus.js';
import { FIELD_LABEL, fleetQueries, parseMatchSelector, scopeMatchers } from '../../src/fleet/queries.js';

const DIR = path.resolve(__dirname, '../fixtures/fleet/tstop');
const load = (name: string): ReturnType<typeof parseVector> =>
  parseVector(
    (JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as { data: { result: unknown } }).data.result,
  );
const setup = JSON.parse(fs.readFileSync(path.join(DIR, 'setup.json'), 'utf8')) as {
  instances: string[];
  memId: string;
  spinId: string;
  memLimitBytes: number;
};
const MiB = 1024 * 1024;

function answers(): FleetAnswers {
  return { values: load('values'), identity: load('identity'), info: load('info'), targets: load('targets') };
}
const ctx = { source: 'http://prom:9090', timestampMs: Date.UTC(2026, 11, 6), monotonicSeconds: 1 };

describe('fleetSnapshot on recorded tstop exporter answers', () => {
  const snap = fleetSnapshot(answers(), ctx);

  it('lists both instances up and names the source', () => {
    expect(snap.instances.map((i) => [i.instance, i.up])).toEqual([...setup.instances].sort().map((i) => [i, true]));
    expect(snap.source).toEqual({ kind: 'prometheus', url: 'http://prom:9090' });
    expect(snap.host.hostname).toBe('fleet http://prom:9090');
    expect(snap.notes).toEqual([]);
  });

  it('maps the 64 MiB cgroup once per instance, with its limit, pids and runtime from tstop_container_info', () => {
    const rows = snap.containers.filter((c) => c.id === fleetId(c.instance, setup.memId));
    expect(rows.map((c) => c.instance).sort()).toEqual([...setup.instances].sort());
    for (const c of rows) {
      expect(c.memory!.usageBytes).toBeGreaterThan(60 * MiB);
      expect(c.memory!.usageBytes).toBeLessThan(80 * MiB);
      expect(c.memory!.limitBytes).toBe(setup.memLimitBytes);
      expect(c.memory!.highBytes).toBeNull();
      expect(c.pids).toEqual({ current: 1, limit: null, peak: null, limitHits: null });
      expect(c.runtime).toBe('cgroup');
      expect(c.cpu!.quotaCores).toBeNull();
      expect(c.pressure!.memory!.some!.avg10).toBe(0);
      expect(c.processes).toEqual([]);
    }
  });

  it('gives the spinner a CPU rate in percent from rate() of the usage counter', () => {
    const rows = snap.containers.filter((c) => c.id === fleetId(c.instance, setup.spinId));
    expect(rows).toHaveLength(2);
    const rates = new Map(
      load('values')
        .filter((s) => s.metric[FIELD_LABEL] === 'cpuRate' && s.metric.id === setup.spinId)
        .map((s) => [s.metric.instance, s.value]),
    );
    for (const c of rows) {
      expect(c.cpu!.percent!).toBeGreaterThan(1);
      expect(c.cpu!.percent!).toBeCloseTo(rates.get(c.instance)! * 100, 9);
    }
  });
});

describe('fleetSnapshot on cAdvisor-only data (no tstop_* families)', () => {
  const a = answers();
  const tstopOnly = new Set([
    'memHigh',
    'pidsLimit',
    'memPsiSomeAvg10',
    'memPsiFullAvg10',
    'cpuPsiSomeAvg10',
    'ioPsiSomeAvg10',
  ]);
  a.values = a.values.filter((s) => !tstopOnly.has(s.metric[FIELD_LABEL]));
  a.info = [];
  const snap = fleetSnapshot(a, ctx);

  it('classifies the runtime from the path, and takes PSI from the rate of the totals', () => {
    const c = snap.containers.find((x) => x.id === fleetId(setup.instances[0], setup.memId))!;
    expect(c.runtime).toBe('cgroup');
    expect(c.memory!.limitBytes).toBe(setup.memLimitBytes);
    expect(c.pressure!.memory!.some!.avg10).toBe(0);
    // avg60/avg300 are unknown: NaN in the model, null in JSON.
    expect(JSON.parse(JSON.stringify(c.pressure!.memory!.some)).avg60).toBeNull();
  });
});

describe('fleet ids and query scope', () => {
  it('keeps ids unique per instance and the tree grouped by instance', () => {
    expect(fleetId('node1:9338', '/')).toBe('/node1:9338');
    expect(fleetId('node1:9338', '/docker/abc')).toBe('/node1:9338/docker/abc');
    expect(fleetId('a/b', '/x')).toBe('/a%2Fb/x');
  });

  it('puts --match and --instance into every selector, and refuses a selector with a metric name', () => {
    expect(parseMatchSelector('{job="tstop",env="prod"}')).toBe('job="tstop",env="prod"');
    expect(() => parseMatchSelector('up{job="x"}')).toThrow(/is not a label selector/);
    const m = scopeMatchers('{job="tstop"}', 'web-.*');
    expect(m).toBe('job="tstop",instance=~"web-.*"');
    const q = fleetQueries({ matchers: m, window: '1m' });
    expect(q.values).toContain('container_memory_usage_bytes{job="tstop",instance=~"web-.*"}');
    // No selector escapes the scope: every metric selector carries the matchers.
    expect(q.values.match(/\b(container|tstop)_\w+\{(?!job="tstop")/g)).toBeNull();
    expect(Object.keys(q)).toHaveLength(4);
  });
});
