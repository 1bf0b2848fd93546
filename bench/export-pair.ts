// exporter (side by side): `tstop export` of this checkout and of another
// (--against DIR, e.g. /work/wt/prev), both on the same N bench cgroups seen
// through an isolated root (bench/dashboard.ts's isolatedRoot: the fixture's
// cgroups only, not other benchmarks' on a shared host), both scraped with
// gzip once a second at the same moments for --seconds (default 60: six 10 s
// settings refreshes and two 30 s rescans of the old way). CPU per scrape is
// each process's CPU over the window / scrapes; RSS at the end, and the peak
// RSS (VmHWM) since the start. --cpu-prof DIR also writes a
// V8 CPU profile of each (node --cpu-prof).
//
// Then the steady figure (--steady S, default 120; 0 skips it): the same
// scraping goes on for S more seconds, and each process's CPU over those is
// divided by their scrapes. The first window holds V8's warm-up (TurboFan
// compiles the collector's hot functions over the first ~20 scrapes); an
// exporter serves for days, so the steady window is its cost per scrape.
// Then 20 s without scrapes give the idle CPU, and "above idle" subtracts
// it (issue 14 compares exporters by CPU per scrape above idle).
//
// Run alone: npm run build && node dist/bench/export-pair.js [cgroups] --against DIR [--seconds S] [--steady S] [--cpu-prof DIR]

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { isolatedRoot } from './dashboard.js';
import {
  cpuSeconds,
  cpuSplitSeconds,
  loadAverages,
  rssMb,
  startExportProcess,
  tstopBin,
  type ExportProcess,
} from './export-process.js';
import { createBenchCgroups } from './fixture.js';
import { peakRssMb } from './collect.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function scrape(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'Accept-Encoding': 'gzip' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

const idleSeconds = 20;

/** Scrapes every exporter at the same moments, once a second for `seconds`; returns how many rounds. */
async function scrapeTogether(exporters: ExportProcess[], seconds: number): Promise<number> {
  const t0 = Date.now();
  let scrapes = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const next = t0 + (scrapes + 1) * 1000;
    await Promise.all(exporters.map((e) => scrape(new URL('metrics', e.url).href)));
    scrapes++;
    await sleep(Math.max(0, next - Date.now()));
  }
  return scrapes;
}

export async function exportPair(
  cgroups: number,
  against: string,
  seconds: number,
  profileDir: string | null,
  steadySeconds = 0,
): Promise<string[]> {
  const bench = await createBenchCgroups(cgroups);
  const root = isolatedRoot(bench);
  const exporters: ExportProcess[] = [];
  try {
    const runs = [
      { label: 'this checkout', bin: tstopBin() },
      { label: against, bin: path.join(against, 'bin', 'tstop') },
    ];
    for (const [i, r] of runs.entries()) {
      const nodeFlags = profileDir
        ? [
            '--max-semi-space-size=4',
            '--optimize-for-size',
            '--v8-pool-size=1',
            '--cpu-prof',
            `--cpu-prof-dir=${path.join(profileDir, String(i))}`,
          ]
        : undefined; // bin/tstop's own flags
      exporters.push(await startExportProcess(['--root', root], { bin: r.bin, nodeFlags }));
    }
    for (const e of exporters) await scrape(new URL('metrics', e.url).href); // the first collection (every file) left out
    const cpuAtStart = exporters.map((e) => cpuSeconds(e.pid));
    const scrapes = await scrapeTogether(exporters, seconds);
    const cpuAfterFirst = exporters.map((e) => cpuSeconds(e.pid));
    const splitAfterFirst = exporters.map((e) => cpuSplitSeconds(e.pid));
    const load = loadAverages();
    const lines = runs.map(
      (r, i) =>
        `export pair at ${cgroups} cgroups (${r.label}): ${((cpuAfterFirst[i] - cpuAtStart[i]) / scrapes).toFixed(4)} CPU-s per scrape over ${scrapes} scrapes 1 s apart, RSS ${rssMb(exporters[i].pid).toFixed(1)} MB, peak ${peakRssMb(exporters[i].pid).toFixed(1)} MB (load ${load})`,
    );
    if (steadySeconds <= 0) return lines;
    const steadyScrapes = await scrapeTogether(exporters, steadySeconds);
    const cpuAfterSteady = exporters.map((e) => cpuSeconds(e.pid));
    const splitAfterSteady = exporters.map((e) => cpuSplitSeconds(e.pid));
    await sleep(idleSeconds * 1000);
    const steadyLoad = loadAverages();
    return lines.concat(
      runs.map((r, i) => {
        const perScrape = (cpuAfterSteady[i] - cpuAfterFirst[i]) / steadyScrapes;
        const idlePerSecond = (cpuSeconds(exporters[i].pid) - cpuAfterSteady[i]) / idleSeconds;
        // User mode against kernel mode: the kernel's part is mostly the reads of the cgroup files,
        // whose C floor the collect bench prints ("the pread floor of the files tstop reads now").
        const userMsPerScrape =
          ((splitAfterSteady[i].userSeconds - splitAfterFirst[i].userSeconds) / steadyScrapes) * 1000;
        const systemMsPerScrape =
          ((splitAfterSteady[i].systemSeconds - splitAfterFirst[i].systemSeconds) / steadyScrapes) * 1000;
        return `export pair at ${cgroups} cgroups (${r.label}), steady: ${perScrape.toFixed(4)} CPU-s per scrape over scrapes ${scrapes + 1}-${scrapes + steadyScrapes} (after ${seconds} s of scrapes), idle ${idlePerSecond.toFixed(4)} CPU-s per s over ${idleSeconds} s without scrapes, above idle ${(perScrape - idlePerSecond).toFixed(4)} CPU-s per scrape (user ${userMsPerScrape.toFixed(1)} ms, kernel ${systemMsPerScrape.toFixed(1)} ms per scrape); peak RSS ${peakRssMb(exporters[i].pid).toFixed(1)} MB (load ${steadyLoad})`;
      }),
    );
  } finally {
    for (const e of exporters) await e.stop();
    fs.rmSync(root, { recursive: true, force: true });
    await bench.cleanup();
  }
}

/** The pair benches' command line: [cgroups] --against DIR [--seconds S], and a reader of other flags. */
export function pairCommandLine(defaultSeconds: number): {
  cgroups: number;
  against: string;
  seconds: number;
  value: (flag: string) => string | undefined;
} {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const against = value('--against');
  if (!against) throw new Error('--against DIR is required');
  const cgroups = Number(args.find((a) => /^\d+$/.test(a)) ?? 1000);
  return { cgroups, against, seconds: Number(value('--seconds') ?? defaultSeconds), value };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { cgroups, against, seconds, value } = pairCommandLine(60);
  const steadySeconds = Number(value('--steady') ?? 120);
  for (const line of await exportPair(cgroups, against, seconds, value('--cpu-prof') ?? null, steadySeconds))
    console.log(line);
}
