// Exporter benchmark: `tstop export` (the built CLI, a child process) scraped
// over HTTP with gzip as Prometheus asks, against N bench cgroups.
//
//   scrape:   end-to-end latency of scrapes that each trigger a collection
//             (--min-interval 0), p50/p99, and the exposition's size
//   split:    how much of it is the collection (tstop_collect_duration_seconds)
//   render:   the exporter's own part in process: text + gzip of one snapshot
//   cpu split: in process, real collections one after the other: CPU of the
//             collection, of rendering and gzip without the render cache, and
//             of the exporter's path with it (SharedCollection)
//   exporter: RSS and CPU (from /proc/<pid>/stat over ~10 s) at one scrape per
//             second, on this host's own cgroups first ("idle") and with N
//   steady:   a 1 s scraper for 20 s: latency, CPU-s per scrape, RSS; with
//             --against DIR, another checkout's exporter (e.g. /work/main) on
//             the same cgroups, the two taking turns
//
// RSS and peak are in MB of 2^20 bytes (VmRSS and VmHWM's kB / 1024), as
// export-pair and collect print them: the same process gives the same figure
// in every bench (until 2026-12-07 this one divided bytes by 10^6, which read
// 4.9 % higher: its "81.4 MB" peak was export-pair's 77.6).
//
// Run alone: npm run build && node dist/bench/scrape.js [cgroups] [--against DIR ...]
//   [--node-flags '--max-semi-space-size=4' --node-flags '--max-semi-space-size=4 --optimize-for-size' ...]

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { renderSnapshot } from '../src/exporter/families.js';
import { TextWriter } from '../src/exporter/text.js';
import { Collector } from '../src/collect/collector.js';
import { SharedCollection } from '../src/exporter/collection.js';
import { peakRssMb } from './collect.js';
import { cpuSeconds, rssMb, startExportProcess, type ExportProcess } from './export-process.js';
import { createBenchCgroups, type BenchCgroups } from './fixture.js';

const gzip = promisify(zlib.gzip);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Scrape {
  ms: number;
  gzipBytes: number;
  text: string;
}

function scrape(url: string): Promise<Scrape> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'Accept-Encoding': 'gzip' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const ms = performance.now() - t0;
          const body = Buffer.concat(chunks);
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
          resolve({ ms, gzipBytes: body.length, text: zlib.gunzipSync(body).toString() });
        });
      })
      .on('error', reject);
  });
}

function gaugeOf(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

const f1 = (v: number): string => v.toFixed(1);

export interface SteadyLoad {
  rssMb: number;
  peakRssMb: number;
  cpuPercent: number;
  /** CPU seconds of the exporter per scrape (all of its work, idle included). */
  cpuSecondsPerScrape: number;
  /** Latency of the scrapes after the first four (the cadence is known from then on). */
  latencyMs: number[];
  collections: number;
  scrapes: number;
  /** tstop_cgroups_exported of the last scrape. */
  exported: number;
}

/** Scraped once a second (as Prometheus at a 1 s interval) for `seconds`: RSS, CPU and latency. */
export async function idleLoad(exp: ExportProcess, seconds: number): Promise<SteadyLoad> {
  const first = await scrape(exp.url + 'metrics');
  const cpu0 = cpuSeconds(exp.pid);
  const t0 = performance.now();
  const latencyMs: number[] = [];
  let last = first;
  for (let i = 0; i < seconds; i++) {
    const next = t0 + (i + 1) * 1000;
    last = await scrape(exp.url + 'metrics');
    if (i >= 4) latencyMs.push(last.ms);
    await sleep(Math.max(0, next - performance.now()));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(exp.pid) - cpu0;
  latencyMs.sort((a, b) => a - b);
  return {
    rssMb: rssMb(exp.pid),
    peakRssMb: peakRssMb(exp.pid),
    cpuPercent: (cpu / wall) * 100,
    cpuSecondsPerScrape: cpu / seconds,
    latencyMs,
    collections: gaugeOf(last.text, 'tstop_collections_total') - gaugeOf(first.text, 'tstop_collections_total'),
    scrapes: seconds,
    exported: gaugeOf(last.text, 'tstop_cgroups_exported'),
  };
}

/** One line for a steady 1 s scraper. */
function steadyLine(label: string, exported: number, load: SteadyLoad): string {
  const l = load.latencyMs;
  return (
    `${label}: ${exported} containers, scraped every 1 s: p50 ${f1(percentile(l, 50))} ms, ` +
    `p99 ${f1(percentile(l, 99))} ms, ${load.collections} collections for ${load.scrapes} scrapes, ` +
    `CPU ${load.cpuSecondsPerScrape.toFixed(3)} CPU-s per scrape (${f1(load.cpuPercent)} % of a core), ` +
    `RSS ${f1(load.rssMb)} MB, peak ${f1(load.peakRssMb)} MB`
  );
}

/** CPU ms of this process (main thread and pool) so far. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * In process, on real collections of the bench cgroups: CPU of the collection,
 * of rendering + gzip the plain way (renderSnapshot, one gzip), and of the
 * exporter's own path (SharedCollection: render cache, gzip pieces).
 */
async function cpuSplit(collections: number): Promise<string> {
  const collector = new Collector({ watch: true });
  await collector.ready();
  let collectMs = 0;
  const source = {
    collect: () => {
      const t0 = cpuMs();
      const s = collector.collect();
      collectMs += cpuMs() - t0;
      return s;
    },
  };
  const shared = new SharedCollection({ source, minIntervalMs: 0, select: () => true });
  const plain: number[] = [];
  const cached: number[] = [];
  const collect: number[] = [];
  let cgroups = 0;
  try {
    for (let i = 0; i < collections + 3; i++) {
      const before = collectMs;
      const t0 = cpuMs();
      const e = await shared.get();
      await e.gzipped();
      const t1 = cpuMs();
      const collectedMs = collectMs - before;
      // The same snapshot the plain way (the collector's last one).
      const snapshot = collector.collect();
      const t2 = cpuMs();
      const w = new TextWriter();
      renderSnapshot(snapshot, snapshot.containers, w);
      await gzip(w.bytes(), { level: 1 });
      const t3 = cpuMs();
      cgroups = snapshot.containers.length;
      if (i >= 3) {
        collect.push(collectedMs);
        cached.push(t1 - t0 - collectedMs);
        plain.push(t3 - t2);
      }
      await sleep(200);
    }
  } finally {
    collector.close();
  }
  for (const a of [plain, cached, collect]) a.sort((x, y) => x - y);
  return (
    `cpu split: ${cgroups} cgroups, CPU ms per scrape (p50 of ${collections}): collection ${f1(percentile(collect, 50))}, ` +
    `render + gzip ${f1(percentile(plain, 50))} plain vs ${f1(percentile(cached, 50))} with the render cache ` +
    `(${shared.renderCache.familiesReused} of ${shared.renderCache.familiesReused + shared.renderCache.familiesRendered} families reused at the last)`
  );
}

export async function bench(options: {
  cgroups: number;
  scrapes?: number;
  idleSeconds?: number;
  /** Other checkouts whose exporters take turns with this one in the steady run (bench/compare.sh's trees). */
  against?: string[];
  /** Sets of node flags for this checkout's exporter, each run steady in turn (two rounds): the V8 flags' cost. */
  nodeFlags?: string[][];
  /** The run's shared bench cgroups (bench/run.ts); standalone runs make their own. */
  fixture?: () => Promise<BenchCgroups>;
}): Promise<string[]> {
  const lines: string[] = [];
  const idleSeconds = options.idleSeconds ?? 10;
  // Long enough for the cadence to be known (4 scrapes) and 16 scrapes after.
  const steadySeconds = Math.max(idleSeconds, 20);

  // This host's own cgroups: the idle cost of running the exporter.
  {
    const exp = await startExportProcess(['--min-interval', '1s']);
    try {
      const first = await scrape(exp.url + 'metrics');
      const load = await idleLoad(exp, idleSeconds);
      lines.push(
        `exporter idle: ${gaugeOf(first.text, 'tstop_cgroups_exported')} cgroups (this host), ` +
          `RSS ${f1(load.rssMb)} MB, CPU ${f1(load.cpuPercent)} % of a core at one scrape per second`,
      );
    } finally {
      await exp.stop();
    }
  }

  const shared = options.fixture !== undefined;
  const fixture = shared ? await options.fixture!() : await createBenchCgroups(options.cgroups);
  try {
    // In process: the exporter's own work on one snapshot (rendering and gzip).
    const collector = new Collector({ watch: false });
    const snapshot = collector.collect();
    collector.close();
    const render: number[] = [];
    const zipped: number[] = [];
    let bytes = 0;
    let gzipBytes = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const w = new TextWriter();
      renderSnapshot(snapshot, snapshot.containers, w);
      const body = w.bytes();
      const t1 = performance.now();
      const z = await gzip(body, { level: 1 });
      render.push(t1 - t0);
      zipped.push(performance.now() - t1);
      bytes = body.length;
      gzipBytes = z.length;
    }
    render.sort((a, b) => a - b);
    zipped.sort((a, b) => a - b);
    lines.push(
      `render: ${snapshot.containers.length} containers, text p50 ${f1(percentile(render, 50))} ms, ` +
        `gzip p50 ${f1(percentile(zipped, 50))} ms, bytes ${bytes}, gzip bytes ${gzipBytes}`,
    );
    lines.push(await cpuSplit(20));

    // End to end: every scrape collects (--min-interval 0), as with Prometheus at any interval >= 1 s.
    const exp = await startExportProcess(['--min-interval', '0']);
    try {
      for (let i = 0; i < 3; i++) await scrape(exp.url + 'metrics');
      const n = options.scrapes ?? 30;
      const ms: number[] = [];
      const collect: number[] = [];
      let last: Scrape | null = null;
      for (let i = 0; i < n; i++) {
        last = await scrape(exp.url + 'metrics');
        ms.push(last.ms);
        collect.push(gaugeOf(last.text, 'tstop_collect_duration_seconds') * 1000);
      }
      ms.sort((a, b) => a - b);
      collect.sort((a, b) => a - b);
      const exported = gaugeOf(last!.text, 'tstop_cgroups_exported');
      lines.push(
        `scrape: ${exported} containers, p50 ${f1(percentile(ms, 50))} ms, p99 ${f1(percentile(ms, 99))} ms, ` +
          `bytes ${Buffer.byteLength(last!.text)}, gzip bytes ${last!.gzipBytes}`,
      );
      lines.push(
        `scrape split: collection p50 ${f1(percentile(collect, 50))} ms of it; ` +
          `rendering, gzip and HTTP the rest (${f1(percentile(ms, 50) - percentile(collect, 50))} ms at p50)`,
      );
      const load = await idleLoad(exp, steadySeconds);
      lines.push(
        `exporter: ${exported} containers, RSS ${f1(load.rssMb)} MB, ` +
          `CPU ${f1(load.cpuPercent)} % of a core at one scrape per second`,
      );
      lines.push(steadyLine('scrape steady, collect ahead', exported, load));
    } finally {
      await exp.stop();
    }
    // Other checkouts' exporters and this one's again, taking turns on the same cgroups.
    for (const tree of options.against ?? []) {
      for (const [label, bin] of [
        [tree, path.join(tree, 'bin/tstop')],
        ['this checkout', undefined],
      ] as const) {
        const other = await startExportProcess(['--min-interval', '1s'], { bin });
        try {
          const load = await idleLoad(other, steadySeconds);
          lines.push(steadyLine(`scrape steady (${label})`, load.exported, load));
        } finally {
          await other.stop();
        }
      }
    }
    // This checkout's exporter under other node flags, taking turns, two rounds.
    for (let round = 0; round < 2 && (options.nodeFlags ?? []).length > 0; round++) {
      for (const nodeFlags of options.nodeFlags!) {
        const flagged = await startExportProcess(['--min-interval', '1s'], { nodeFlags });
        try {
          const load = await idleLoad(flagged, steadySeconds);
          lines.push(steadyLine(`scrape steady (node ${nodeFlags.join(' ')})`, load.exported, load));
        } finally {
          await flagged.stop();
        }
      }
    }
    // The same, collecting only when a scrape asks: the side-by-side reference.
    const atScrape = await startExportProcess(['--min-interval', '0'], { env: { TSTOP_EXPORT_AHEAD: '0' } });
    try {
      const load = await idleLoad(atScrape, steadySeconds);
      lines.push(steadyLine('scrape steady, collect at scrape', load.exported, load));
    } finally {
      await atScrape.stop();
    }
  } finally {
    if (!shared) await fixture.cleanup();
  }
  return lines;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const taken = (flag: string): string[] => {
    const values: string[] = [];
    for (let i = args.indexOf(flag); i >= 0; i = args.indexOf(flag)) values.push(...args.splice(i, 2).slice(1));
    return values;
  };
  const against = taken('--against');
  const nodeFlags = taken('--node-flags').map((f) => f.split(' ').filter((x) => x !== ''));
  const cgroups = Number(args[0] ?? 1000);
  console.log(`load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  for (const line of await bench({ cgroups, against, nodeFlags })) console.log(line);
  console.log(`load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
}
