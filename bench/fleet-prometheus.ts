// A Prometheus for the fleet benchmark: started on a data dir on a free
// loopback port, stopped by pid (SIGTERM, then SIGKILL after 20 s); plus the
// bench's raw query call with Prometheus's own statistics (stats=all).

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort } from './export-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function post(url: string, params: Record<string, string>): Promise<{ status: number; text: string }> {
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

export interface BenchPrometheus {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts Prometheus on `dataDir` (no scrape jobs) and waits for /-/ready. */
export async function startPrometheus(dataDir: string, workDir: string): Promise<BenchPrometheus> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const config = path.join(workDir, 'prometheus.yml');
  fs.writeFileSync(config, 'global:\n  scrape_interval: 1m\n');
  let log = '';
  const child = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // The cached data is as old as the cache: keep it whatever its age.
      '--storage.tsdb.retention.time=3650d',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
      const ok = await new Promise<boolean>((resolve) => {
        http
          .get(url + '-/ready', { agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          })
          .on('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`prometheus not ready after 180 s: ${log}`);
      await sleep(250);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, child, stop };
}

/** Prometheus's own figures for one query (stats=all), in ms and samples. */
export interface QueryStats {
  execMs: number;
  prepareMs: number;
  innerEvalMs: number;
  samples: number;
  series: number;
}

export async function queryStats(base: string, query: string, atSeconds: number): Promise<QueryStats> {
  const r = await post(base + 'api/v1/query', { query, time: String(atSeconds), stats: 'all' });
  if (r.status !== 200) throw new Error(`query failed (HTTP ${r.status}): ${r.text.slice(0, 300)}`);
  const reply = JSON.parse(r.text) as {
    data: {
      result: unknown[];
      stats?: {
        timings?: { execTotalTime?: number; queryPreparationTime?: number; innerEvalTime?: number };
        samples?: { totalQueryableSamples?: number };
      };
    };
  };
  const t = reply.data.stats?.timings ?? {};
  return {
    execMs: (t.execTotalTime ?? NaN) * 1000,
    prepareMs: (t.queryPreparationTime ?? NaN) * 1000,
    innerEvalMs: (t.innerEvalTime ?? NaN) * 1000,
    samples: reply.data.stats?.samples?.totalQueryableSamples ?? NaN,
    series: reply.data.result.length,
  };
}

/** The block directories (ULIDs) of a TSDB data dir. */
export function blockDirs(dataDir: string): string[] {
  return fs
    .readdirSync(dataDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9A-Z]{26}$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Hard-links a data dir's blocks into `to` (Prometheus writes new files, never into a block's). */
export function linkBlocks(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const block of blockDirs(from)) execFileSync('cp', ['-al', path.join(from, block), path.join(to, block)]);
}

export function loadAverage(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
