// The dashboard's ranking by deploy/prometheus/tstop-rules.yml against real
// Prometheus servers: two "hosts" (small HTTP servers serving cAdvisor's
// container_* series with known CPU rates) scraped every second by one
// Prometheus that loads the rules and one that does not. The rules Prometheus
// ranks from the rules once a count found their series for every row, with
// the rows the raw rates give; the other keeps ranking by raw rates, with the
// same rows. The rules file passes `promtool check rules`.
// Needs prometheus and promtool (Debian's package).

import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tstopBin } from '../../bench/export-process.js';
import { fleetId } from '../../src/fleet/mapping.js';
import { PrometheusClient, type VectorSample } from '../../src/fleet/prometheus.js';
import { RANKING_RULES, type TopView } from '../../src/fleet/queries.js';
import { FleetSource } from '../../src/fleet/source.js';
import { hasPrometheus, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.js';

const rulesFile = path.resolve(path.dirname(tstopBin()), '../deploy/prometheus/tstop-rules.yml');
const CONTAINERS = 6;
/** Host h's container c uses this many cores: each rank 1.5 times the next, the hosts interleaved. */
const coresOf = (h: number, c: number): number => 0.01 * 1.5 ** (2 * c + h);

/**
 * A host serving cAdvisor's text format, its CPU counters growing at
 * coresOf(h, c) since it started, each sample with the time it was taken
 * (so a slow scrape on a loaded machine does not skew the rates).
 */
function host(h: number): Promise<http.Server> {
  const started = Date.now();
  const server = http.createServer((_req, res) => {
    const now = Date.now();
    const seconds = (now - started) / 1000;
    const lines = ['# TYPE container_cpu_usage_seconds_total counter', '# TYPE container_last_seen gauge'];
    for (let c = 1; c <= CONTAINERS; c++) {
      const labels = `id="/docker/c${c}",name="app-${h}-${c}"`;
      lines.push(`container_cpu_usage_seconds_total{${labels},cpu="total"} ${1000 + coresOf(h, c) * seconds} ${now}`);
      lines.push(`container_last_seen{${labels}} ${now / 1000} ${now}`);
    }
    res.setHeader('Content-Type', 'text/plain; version=0.0.4');
    res.end(lines.join('\n') + '\n');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A client that remembers each instant query it sends. */
class RecordingClient extends PrometheusClient {
  sent: string[] = [];
  override query(expr: string, timeSeconds?: number): Promise<VectorSample[]> {
    this.sent.push(expr);
    return super.query(expr, timeSeconds);
  }
  /** The ranking queries sent so far (topk). */
  rankings(): string[] {
    return this.sent.filter((q) => q.includes('topk('));
  }
}

const rowsOf = (snapshot: { containers: { id: string }[] }): string[] => snapshot.containers.map((c) => c.id);

describe.runIf(hasPrometheus())('ranking by the recording rules on a real Prometheus', () => {
  const hosts: http.Server[] = [];
  let withRules: RunningPrometheus;
  let withoutRules: RunningPrometheus;
  let targets: string[] = [];
  const view: TopView = { n: 5, sort: 'cpu', reverse: false, filter: '' };
  const scope = { matchers: 'job="tstop"', window: '1m' };

  beforeAll(async () => {
    for (const h of [0, 1]) hosts.push(await host(h));
    targets = hosts.map((s) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`);
    withRules = await startPrometheus(targets, { ruleFiles: [rulesFile] });
    withoutRules = await startPrometheus(targets);
    // Until both Prometheus have two scrapes of every container and the rules their series.
    const client = new PrometheusClient({ url: withRules.url });
    const other = new PrometheusClient({ url: withoutRules.url });
    const cpu = RANKING_RULES.cpu;
    const rows = 2 * CONTAINERS;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const counts = await Promise.all([
        client.query(`count(rate(container_cpu_usage_seconds_total[1m]))`),
        other.query(`count(rate(container_cpu_usage_seconds_total[1m]))`),
        client.query(`count(${cpu.record})`),
        client.query(`count(${cpu.top.record})`),
      ]);
      if (counts.every((c) => c[0]?.value === rows)) break;
      if (Date.now() > deadline) throw new Error(`no data after 60 s: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 90_000);

  afterAll(async () => {
    await withRules?.stop();
    await withoutRules?.stop();
    for (const s of hosts) s.close();
  });

  /** The 5 busiest (instance, path) rows: host 1's c6, host 0's c6, host 1's c5, ... */
  const busiest = (): string[] =>
    [
      [1, 6],
      [0, 6],
      [1, 5],
      [0, 5],
      [1, 4],
    ].map(([h, c]) => fleetId(targets[h], `/docker/c${c}`));

  it('ranks by raw rates until a count found the rules, then by the top rule, with the same rows', async () => {
    const client = new RecordingClient({ url: withRules.url });
    const source = new FleetSource({ client, scope });
    const first = await source.refresh(view);
    await source.whenCounted();
    const second = await source.refresh(view);
    const [rankedFirst, rankedSecond] = client.rankings();
    expect(rankedFirst).toContain('rate(container_cpu_usage_seconds_total{job="tstop"}[1m])');
    expect(rankedSecond).toBe(`group by (instance, id) (topk(5, ${RANKING_RULES.cpu.top.record}{job="tstop"}))`);
    expect(rowsOf(first).sort()).toEqual(busiest().sort());
    expect(rowsOf(second).sort()).toEqual(busiest().sort());
    // The count found every row, and told the header.
    expect(second.host.kernel).toBe('2/2 instances up, top 5 of 12 cgroups by cpu');
  });

  it('ranks a filtered view by the value rule, and by raw rates with rankingRules off', async () => {
    const client = new RecordingClient({ url: withRules.url });
    const source = new FleetSource({ client, scope });
    const filtered = { ...view, filter: 'docker/c3' };
    await source.refresh(filtered);
    await source.whenCounted();
    const byRule = await source.refresh(filtered);
    expect(client.rankings()[1]).toContain(`topk(5, (${RANKING_RULES.cpu.record}{job="tstop"}) and on (instance, id)`);
    expect(rowsOf(byRule).sort()).toEqual(targets.map((t) => fleetId(t, '/docker/c3')).sort());

    const off = new RecordingClient({ url: withRules.url });
    const raw = new FleetSource({ client: off, scope, rankingRules: false });
    await raw.refresh(view);
    await raw.whenCounted();
    const rawRows = rowsOf(await raw.refresh(view));
    expect(off.rankings().every((q) => !q.includes('tstop:'))).toBe(true);
    expect(off.sent.some((q) => q.includes('tstop:'))).toBe(false);
    expect(rawRows.sort()).toEqual(busiest().sort());
  });

  it('keeps ranking by raw rates on a Prometheus without the rules, with the same rows', async () => {
    const client = new RecordingClient({ url: withoutRules.url });
    const source = new FleetSource({ client, scope });
    await source.refresh(view);
    await source.whenCounted();
    const second = await source.refresh(view);
    expect(client.rankings()).toHaveLength(2);
    for (const q of client.rankings()) expect(q).toContain('rate(container_cpu_usage_seconds_total{job="tstop"}[1m])');
    expect(rowsOf(second).sort()).toEqual(busiest().sort());
    expect(second.host.kernel).toBe('2/2 instances up, top 5 of 12 cgroups by cpu');
  });

  it('ships a rules file promtool accepts', () => {
    const r = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 2 rules found');
  });
});
