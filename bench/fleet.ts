// Fleet benchmark (issue 17): a real Prometheus (Debian's 2.42) serving
// synthetic data for 1,000 hosts × 50 containers, backfilled from
// OpenMetrics text with `promtool tsdb create-blocks-from openmetrics` into a
// temp data dir; then tstop's refreshes against it, each in a child process
// (bench/fleet-refresh.ts) so its CPU and peak RSS are its own:
//
//   dashboard: the dashboard's refresh (the first 200 rows by CPU: topk)
//   snapshot:  `tstop snapshot --prometheus --instance ...`'s refresh of every
//              container of the first 10 hosts (the full refresh grows with the rows)
//   prometheus: each dashboard query's evaluation time (stats=all), and RSS
//
// Prometheus and the temp dir are removed at the end, also on failure.
// Run alone: npm run build && node dist/bench/fleet.js [hosts] [containersPerHost] [snapshotHosts]

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { narrowedQueries } from '../src/fleet/narrowed.js';
import { fleetQueries, keyedScope, topQueries } from '../src/fleet/queries.js';
import { rssBytes } from './export-process.js';
import { backfill, SERIES_PER_CONTAINER, writeOpenMetrics } from './fleet-data.js';
import type { RefreshFigures } from './fleet-refresh.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const f1 = (v: number): string => v.toFixed(1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function post(url: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setHeader('Content-Type', 'application/x-www-form-urlencoded');
    req.end(new URLSearchParams(params).toString());
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      http
        .get(url + '-/ready', { agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 120 s: ${log()}`);
    await sleep(250);
  }
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
        resolve(JSON.parse(out) as RefreshFigures);
      } catch {
        reject(new Error(`fleet-refresh exited ${code}: ${out}`));
      }
    });
  });
}

/** Evaluation time of one query in Prometheus (stats=all: execTotalTime), in ms. */
async function queryMs(base: string, query: string, atSeconds: number): Promise<number> {
  const r = await post(base + 'api/v1/query', { query, time: String(atSeconds), stats: 'all' });
  if (r.status !== 200) throw new Error(`query failed (HTTP ${r.status}): ${r.text.slice(0, 200)}`);
  const reply = JSON.parse(r.text) as { data: { stats?: { timings?: { execTotalTime?: number } } } };
  return (reply.data.stats?.timings?.execTotalTime ?? NaN) * 1000;
}

export async function bench(
  options: { hosts?: number; containersPerHost?: number; snapshotHosts?: number } = {},
): Promise<string[]> {
  const hosts = options.hosts ?? 1000;
  const containersPerHost = options.containersPerHost ?? 50;
  const lines: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-fleet-'));
  let prometheus: ChildProcess | null = null;
  try {
    // Two samples 15 s apart (enough for rate() over 1m), ending a minute ago.
    const endSeconds = Math.floor(Date.now() / 1000) - 60;
    const t0 = performance.now();
    // Two halves of the hosts, backfilled by two promtools at once, each into its own blocks.
    const parts = [0, 1].map((i) => ({
      file: path.join(dir, `part-${i}.om`),
      from: Math.floor((hosts * i) / 2),
      to: Math.floor((hosts * (i + 1)) / 2),
    }));
    let samples = 0;
    let bytes = 0;
    for (const p of parts) {
      samples += await writeOpenMetrics(p.file, {
        hosts: p.to - p.from,
        firstHost: p.from,
        containersPerHost,
        samples: 2,
        endSeconds,
      });
      bytes += fs.statSync(p.file).size;
    }
    const generated = performance.now();
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    await Promise.all(parts.map((p) => backfill(p.file, data)));
    for (const p of parts) fs.rmSync(p.file);
    const backfilled = performance.now();
    const series = hosts * containersPerHost * SERIES_PER_CONTAINER + hosts * 3;
    lines.push(
      `fleet: ${hosts} hosts x ${containersPerHost} containers, ${series} series, ${samples} samples, ` +
        `${f1(bytes / 1e6)} MB of OpenMetrics in ${f1((generated - t0) / 1000)} s, promtool backfill ${f1((backfilled - generated) / 1000)} s`,
    );

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const config = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(config, 'global:\n  scrape_interval: 1m\n');
    let log = '';
    const child = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=7d',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus = child;
    child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    await waitReady(url, child, () => log);
    const started = performance.now();
    lines.push(
      `fleet: prometheus ready in ${f1((started - backfilled) / 1000)} s, RSS ${f1(rssBytes(child.pid!) / 1e6)} MB`,
    );

    // Warm Prometheus's caches once, then measure.
    await runRefresh(url, endSeconds, 'dashboard', 1);
    const dash = await runRefresh(url, endSeconds, 'dashboard', 5);
    if (dash.error) throw new Error(`dashboard refresh: ${dash.error}`);
    lines.push(
      `fleet: dashboard refresh (top 200 of ${hosts * containersPerHost} by CPU, ${dash.queries} queries): ` +
        `wall median ${f1(median(dash.wallMs))} ms (max ${f1(Math.max(...dash.wallMs))}), ` +
        `tstop CPU median ${f1(median(dash.cpuMs))} ms, tstop peak RSS ${f1(dash.maxRssBytes / 1e6)} MB, rows ${dash.containers}`,
    );

    // Prometheus's side of the dashboard refresh, query by query.
    const scope = { matchers: '', window: '1m' };
    const top = topQueries(scope, { n: 200, sort: 'cpu', reverse: false, filter: '' });
    const keysReply = JSON.parse(
      (await post(url + 'api/v1/query', { query: top.keys, time: String(endSeconds) })).text,
    ) as { data: { result: { metric: Record<string, string> }[] } };
    const keys = keysReply.data.result.map((r): [string, string] => [r.metric.instance, r.metric.id]);
    const narrowedScope = keyedScope(scope, keys);
    const narrowed = fleetQueries(narrowedScope);
    const raw = narrowedQueries(narrowedScope);
    const timed: [string, string][] = [
      ['keys (topk)', top.keys],
      ['total (every 30 s)', top.total],
      ['targets', fleetQueries(scope).targets],
      ['gauges', raw.gauges],
      ['counters', raw.counters],
      ['identity', narrowed.identity],
      ['info', narrowed.info],
    ];
    const ms: string[] = [];
    for (const [name, q] of timed) {
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) runs.push(await queryMs(url, q, endSeconds));
      ms.push(`${name} ${f1(median(runs))} ms`);
    }
    lines.push(`fleet: prometheus eval per dashboard query: ${ms.join(', ')}`);

    // The snapshot's full refresh (every field of every row, one tagged query) of the first
    // `snapshotHosts` hosts (--instance): it grows with the rows, so not of all of them.
    const snapshotHosts = Math.min(hosts, options.snapshotHosts ?? 10);
    const instanceRegex = `host-(${Array.from({ length: snapshotHosts }, (_, h) => String(h).padStart(4, '0')).join('|')}):9338`;
    const full = await runRefresh(url, endSeconds, 'snapshot', 1, instanceRegex);
    lines.push(
      full.error
        ? `fleet: snapshot refresh of ${snapshotHosts} hosts: failed (${full.error})`
        : `fleet: snapshot refresh of every container of ${snapshotHosts} hosts (${full.queries} queries): wall ${f1(full.wallMs[0])} ms, ` +
            `tstop CPU ${f1(full.cpuMs[0])} ms, tstop peak RSS ${f1(full.maxRssBytes / 1e6)} MB, rows ${full.containers}`,
    );
    lines.push(`fleet: prometheus RSS after the queries ${f1(rssBytes(child.pid!) / 1e6)} MB`);
    return lines;
  } finally {
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (prometheus.exitCode === null && prometheus.signalCode === null) prometheus.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
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
