// collection tick (side by side): this checkout's Collector and another's
// (--against DIR, e.g. a worktree of main), on the same N bench cgroups seen
// through an isolated root (other benchmarks' cgroups on a shared host do
// not count). Each tree collects in its own process, in alternating rounds
// of --ticks ticks (a tick every 100 ms, as steady as a scrape loop but
// shorter); the figure is CPU time per tick (user + system of the process,
// over the round), its median over rounds, and the reads per tick (traced).
//
// Run alone: npm run build && node --max-semi-space-size=4 dist/bench/collect-pair.js [cgroups] --against DIR [--rounds R] [--ticks T]

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './collect.js';
import { isolatedRoot } from './dashboard.js';
import { loadAverages } from './export-process.js';
import { createBenchCgroups } from './fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const checkout = path.resolve(here, '../..');

interface Round {
  cpuMsPerTick: number;
  readsPerTick: number;
}

/** In the child: the tree's Collector on root, 6 warm-up ticks, then `ticks` measured ones. */
async function child(tree: string, root: string, ticks: number): Promise<Round> {
  const url = pathToFileURL(path.join(tree, 'dist/src/collect/collector.js')).href;
  const { Collector } = (await import(url)) as typeof import('../src/collect/collector.js');
  const collector = new Collector({ watch: true, rescanIntervalMs: 3_600_000, root });
  for (let i = 0; i < 6; i++) {
    collector.collect();
    await new Promise((r) => setTimeout(r, 100));
  }
  let reads = 0;
  collector.tree.reader.trace = () => reads++;
  collector.collect();
  collector.tree.reader.trace = null;
  const before = process.cpuUsage();
  for (let i = 0; i < ticks; i++) {
    collector.collect();
    await new Promise((r) => setTimeout(r, 100));
  }
  const used = process.cpuUsage(before);
  collector.close();
  return { cpuMsPerTick: (used.user + used.system) / 1000 / ticks, readsPerTick: reads };
}

export async function collectPair(cgroups: number, against: string, rounds: number, ticks: number): Promise<string[]> {
  const bench = await createBenchCgroups(cgroups);
  const root = isolatedRoot(bench);
  try {
    await new Promise((r) => setTimeout(r, 3000)); // the sleepers settle: their cgroups idle from here on
    const trees = [
      { label: 'this checkout', dir: checkout },
      { label: against, dir: path.resolve(against) },
    ];
    const results: Round[][] = trees.map(() => []);
    for (let r = 0; r < rounds; r++) {
      for (const [i, t] of trees.entries()) {
        const out = execFileSync(
          process.execPath,
          [
            ...process.execArgv,
            fileURLToPath(import.meta.url),
            '--child',
            t.dir,
            '--root',
            root,
            '--ticks',
            String(ticks),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        results[i].push(JSON.parse(out) as Round);
      }
    }
    const load = loadAverages();
    return trees.map((t, i) => {
      const cpu = results[i].map((x) => x.cpuMsPerTick);
      return `collect pair at ${cgroups} cgroups (${t.label}): CPU ${median(cpu).toFixed(1)} ms per tick (median of ${rounds} rounds of ${ticks} ticks; rounds ${cpu.map((c) => c.toFixed(1)).join(', ')}), ${results[i][0].readsPerTick} reads per tick (load ${load})`;
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    await bench.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      against: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      ticks: { type: 'string', default: '40' },
      child: { type: 'string' },
      root: { type: 'string' },
    },
  });
  const run = values.child
    ? child(values.child, values.root ?? '/', Number(values.ticks)).then((r) => [JSON.stringify(r)])
    : values.against
      ? collectPair(Number(positionals[0] ?? 1000), values.against, Number(values.rounds), Number(values.ticks))
      : Promise.reject(new Error('usage: collect-pair.js [cgroups] --against DIR [--rounds R] [--ticks T]'));
  run.then(
    (lines) => {
      for (const l of lines) console.log(l);
      if (values.child) process.exit(0); // the collector's inotify and timers: do not wait for them
    },
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
      process.exitCode = 1;
    },
  );
}
