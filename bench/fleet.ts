// Fleet benchmark (issue 17): a real Prometheus (Debian's 2.42) serving
// synthetic data for 1,000 hosts × 50 containers, backfilled from
// OpenMetrics text with `promtool tsdb create-blocks-from openmetrics`, plus
// deploy/prometheus/tstop-rules.yml's recording rule backfilled with
// `promtool tsdb create-blocks-from rules`. Both are cached outside the repo
// (bench/fleet-cache.ts): a second run starts Prometheus on hard links of
// the cached blocks within seconds.
//
//   queries:   each candidate ranking query and each query of a dashboard
//              refresh, Prometheus's own timings (stats=all), rounds interleaved
//   dashboard: tstop's refresh (the first 200 rows by CPU), by the recording
//              rule and by raw rates, child processes interleaved
//              (bench/fleet-refresh.ts: wall, CPU and peak RSS its own)
//   snapshot:  `tstop snapshot --prometheus --instance ...`'s full refresh
//              of every container of the first 10 hosts
//
// Prometheus and the temp dir are removed at the end, also on failure.
// Run alone: npm run build && node dist/bench/fleet.js [hosts] [containersPerHost] [snapshotHosts]

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { narrowedQueries } from '../src/fleet/narrowed.js';
import { fleetQueries, keyedScope, RANKING_RULES, topQueries } from '../src/fleet/queries.js';
import { rssBytes } from './export-process.js';
import { fleetData, queryTime, ruleBlocks } from './fleet-cache.js';
import {
  linkBlocks,
  loadAverage,
  post,
  queryStats,
  startPrometheus,
  type BenchPrometheus,
  type QueryStats,
} from './fleet-prometheus.js';
import type { RefreshFigures } from './fleet-refresh.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const f1 = (v: number): string => v.toFixed(1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function rulesFile(): string {
  for (const rel of ['../deploy/prometheus/tstop-rules.yml', '../../deploy/prometheus/tstop-rules.yml']) {
    const p = path.resolve(here, rel);
    if (fs.existsSync(p)) return p;
  }
  throw new Error('deploy/prometheus/tstop-rules.yml not found');
}

function runRefresh(
  url: string,
  atSeconds: number,
  mode: string,
  repeats: number,
  instanceRegex = '',
): Promise<RefreshFigures> {
  return new Promise((resolve, reject) => {
    const args = [url, String(atSeconds), mode, String(repeats), instanceRegex];
    const child = spawn(process.execPath, ['--max-semi-space-size=4', path.join(here, 'fleet-refresh.js'), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        const figures = JSON.parse(out) as RefreshFigures;
        if (figures.error) reject(new Error(`${mode} refresh: ${figures.error}`));
        else resolve(figures);
      } catch {
        reject(new Error(`fleet-refresh exited ${code}: ${out}`));
      }
    });
  });
}

async function keysOf(url: string, query: string, at: number): Promise<[string, string][]> {
  const reply = JSON.parse((await post(url + 'api/v1/query', { query, time: String(at) })).text) as {
    data: { result: { metric: Record<string, string> }[] };
  };
  return reply.data.result.map((r): [string, string] => [r.metric.instance, r.metric.id]);
}

/** Each query `rounds` times, the queries interleaved within a round; medians of Prometheus's timings. */
async function compareQueries(url: string, at: number, queries: [string, string][], rounds: number): Promise<string[]> {
  const runs = new Map<string, QueryStats[]>(queries.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, q] of queries) runs.get(name)!.push(await queryStats(url, q, at));
  }
  return queries.map(([name]) => {
    const s = runs.get(name)!;
    const m = (f: (x: QueryStats) => number): string => f1(median(s.map(f)));
    return (
      `  ${name}: exec ${m((x) => x.execMs)} ms (prepare ${m((x) => x.prepareMs)}, eval ${m((x) => x.innerEvalMs)}), ` +
      `${s[0].samples} samples, ${s[0].series} series`
    );
  });
}

export async function bench(
  options: { hosts?: number; containersPerHost?: number; snapshotHosts?: number } = {},
): Promise<string[]> {
  const hosts = options.hosts ?? 1000;
  const containersPerHost = options.containersPerHost ?? 50;
  const lines: string[] = [];
  const log = (s: string): void => console.error(s);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-fleet-'));
  let prometheus: BenchPrometheus | null = null;
  try {
    const data = await fleetData({ hosts, containersPerHost, samples: 2 }, log);
    lines.push(
      `fleet: ${hosts} hosts x ${containersPerHost} containers, ${data.series} series, ${data.samples} samples ` +
        (data.cached ? `(cached in ${data.dir}; when built: ` : `(built into ${data.dir}: `) +
        `${f1(data.openMetricsBytes / 1e6)} MB of OpenMetrics generated in ${f1(data.generateSeconds)} s, ` +
        `promtool backfill ${f1(data.backfillSeconds)} s)`,
    );
    const dataDir = path.join(work, 'data');
    const t0 = performance.now();
    linkBlocks(data.dir, dataDir);
    prometheus = await startPrometheus(dataDir, work);
    const rules = await ruleBlocks(data, rulesFile(), prometheus.url, async (blockDir) => {
      // Prometheus loads new blocks at start: restart it with the rule's block.
      await prometheus!.stop();
      prometheus = null;
      linkBlocks(blockDir, dataDir);
      prometheus = await startPrometheus(dataDir, work);
      return prometheus.url;
    });
    if (rules.cached) {
      await prometheus.stop();
      prometheus = null;
      for (const d of rules.dirs) linkBlocks(d, dataDir);
      prometheus = await startPrometheus(dataDir, work);
    } else {
      lines.push(`fleet: ${rules.dirs.length} recording rules backfilled by promtool in ${f1(rules.seconds)} s`);
    }
    const url = prometheus.url;
    const pid = prometheus.child.pid!;
    lines.push(
      `fleet: prometheus ready in ${f1((performance.now() - t0) / 1000)} s, RSS ${f1(rssBytes(pid) / 1e6)} MB; load average ${loadAverage()}`,
    );
    const at = queryTime(data.endSeconds, rules.dirs.length);

    // Warm Prometheus's caches (index, chunks) once.
    await runRefresh(url, at, 'dashboard', 2);

    // Prometheus's side, query by query: the ranking's candidate shapes and a refresh's queries.
    const scope = { matchers: '', window: '1m' };
    const view = { n: 200, sort: 'cpu', reverse: false, filter: '' };
    const raw = topQueries(scope, view);
    const rule = topQueries(scope, view, { ranking: 'rule', probe: true });
    const topRule = topQueries(scope, view, { ranking: 'top' });
    const record = RANKING_RULES.cpu.record;
    const cpu = 'container_cpu_usage_seconds_total';
    const rawKeys = await keysOf(url, raw.keys, at);
    for (const [name, q] of [
      ['value rule', rule.keys],
      ['top rule', topRule.keys],
    ]) {
      const keys = await keysOf(url, q, at);
      const same = keys.filter(([i, id]) => rawKeys.some((k) => k[0] === i && k[1] === id)).length;
      lines.push(`fleet: the ${name}'s first ${keys.length} rows are the raw ranking's: ${same} of ${rawKeys.length}`);
    }
    const narrowedScope = keyedScope(scope, rawKeys);
    const narrowed = fleetQueries(narrowedScope);
    const rawNarrowed = narrowedQueries(narrowedScope);
    const candidates: [string, string][] = [
      ['keys, raw (rate, sum by)', raw.keys],
      ['keys, raw without sum by', `group by (instance, id) (topk(200, rate(${cpu}[1m])))`],
      ['keys, raw irate', `group by (instance, id) (topk(200, sum by (instance, id) (irate(${cpu}[1m]))))`],
      ['keys, value rule with sum by', `group by (instance, id) (topk(200, sum by (instance, id) (${record})))`],
      ['keys, value rule', rule.keys],
      ['keys, top rule', topRule.keys],
      ['count, rows', raw.total],
      ['count, rows without group by', `count(container_last_seen)`],
      ['count, rows and rules (every 30 s)', rule.total],
      ['targets', fleetQueries(scope).targets],
      ['gauges (200 rows)', rawNarrowed.gauges],
      ['counters (200 rows)', rawNarrowed.counters],
      ['identity (200 rows)', narrowed.identity],
      ['info (200 rows)', narrowed.info],
    ];
    lines.push(
      `fleet: prometheus per query (stats=all, median of 5 interleaved rounds; load average ${loadAverage()}):`,
    );
    lines.push(...(await compareQueries(url, at, candidates, 5)));

    // tstop's refresh, by the rule and by raw rates, child processes interleaved.
    const figures: Record<string, RefreshFigures[]> = { dashboard: [], 'dashboard-raw': [] };
    const modeNames: Record<string, string> = { dashboard: 'by the recording rules', 'dashboard-raw': 'by raw rates' };
    for (let r = 0; r < 3; r++) {
      for (const mode of Object.keys(figures)) figures[mode].push(await runRefresh(url, at, mode, 6));
    }
    lines.push(
      `fleet: dashboard refresh, top 200 of ${hosts * containersPerHost} by CPU (load average ${loadAverage()}):`,
    );
    for (const [mode, runs] of Object.entries(figures)) {
      // The first refresh of each process ranks by raw rates while it counts the rows and the
      // rules' series: the others are the steady state.
      const wall = runs.flatMap((f) => f.wallMs.slice(1));
      const cpuMs = runs.flatMap((f) => f.cpuMs.slice(1));
      lines.push(
        `  ${modeNames[mode]}: ${runs[0].queries} queries, ` +
          `wall median ${f1(median(wall))} ms (max ${f1(Math.max(...wall))}), first refresh ` +
          `${f1(median(runs.map((f) => f.wallMs[0])))} ms, tstop CPU median ${f1(median(cpuMs))} ms, ` +
          `tstop peak RSS ${f1(Math.max(...runs.map((f) => f.maxRssBytes)) / 1e6)} MB, rows ${runs[0].containers}`,
      );
    }

    // The snapshot's full refresh (every field of every row, one tagged query) of the first
    // `snapshotHosts` hosts (--instance): it grows with the rows, so not of all of them.
    const snapshotHosts = Math.min(hosts, options.snapshotHosts ?? 10);
    const instanceRegex = `host-(${Array.from({ length: snapshotHosts }, (_, h) => String(h).padStart(4, '0')).join('|')}):9338`;
    const full = await runRefresh(url, at, 'snapshot', 1, instanceRegex);
    lines.push(
      `fleet: snapshot refresh of every container of ${snapshotHosts} hosts (${full.queries} queries): wall ${f1(full.wallMs[0])} ms, ` +
        `tstop CPU ${f1(full.cpuMs[0])} ms, tstop peak RSS ${f1(full.maxRssBytes / 1e6)} MB, rows ${full.containers}`,
    );
    lines.push(`fleet: prometheus RSS after the queries ${f1(rssBytes(pid) / 1e6)} MB; load average ${loadAverage()}`);
    return lines;
  } finally {
    await prometheus?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [hosts, containers, snapshotHosts] = process.argv.slice(2).map(Number);
  const t0 = performance.now();
  bench({
    hosts: hosts || undefined,
    containersPerHost: containers || undefined,
    snapshotHosts: snapshotHosts || undefined,
  }).then(
    (lines) => {
      for (const l of lines) console.log(l);
      console.log(`fleet: whole benchmark ${f1((performance.now() - t0) / 1000)} s`);
    },
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
