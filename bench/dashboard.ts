// Dashboard benchmark: the dashboard drawn into a headless 160x48 screen.
//  - frame: one tick's work for the UI (history, rows sorted and filtered,
//    visible rows formatted, blessed's diff written out) with N cgroups in
//    synthetic snapshots whose numbers change every frame;
//  - keypress: from a key's bytes on the input to the redrawn frame on the
//    output (moving, tree toggle, re-sort, filter typing);
//  - cpu: the whole process (Collector on the real cgroups of the fixture,
//    watching, plus the UI) at a 1 s interval for 120 s, as `tstop` runs it:
//    process CPU (every thread) over the window / its wall time. The ticks
//    start 1 s apart (ui/app.ts), so this is the cost of a 1 s refresh.
// Goals: frame <= 30 ms, keypress to frame <= 50 ms, CPU <= 5 % of a core.
// Standalone: node dist/bench/dashboard.js [--cgroups N] (root for the cpu part);
// the cpu part alone: --cpu-only [--seconds S] [--every-file] [--isolated] [--sort KEY] (--isolated:
// the collector sees only the fixture's cgroups, not other benchmarks' on a shared host).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DASHBOARD_COLLECTOR, unavailableLimiter } from '../src/cli/dashboard-limiter.js';
import { Collector, type CollectorOptions } from '../src/collect/collector.js';
import { syntheticSnapshot } from '../src/model/samples.js';
import type { SnapshotSource } from '../src/model/types.js';
import { Dashboard } from '../ui/app.js';
import { SORT_KEYS, type SortKey } from '../ui/view/sort.js';
import { createBenchCgroups, type BenchCgroups } from './fixture.js';

const WIDTH = 160;
const HEIGHT = 48;

function headless(): { input: PassThrough; output: Writable; onWrite: (cb: (() => void) | null) => void } {
  const input = Object.assign(new PassThrough(), { isTTY: true, isRaw: false, setRawMode: () => undefined });
  let waiter: (() => void) | null = null;
  const output = Object.assign(
    new Writable({
      write(_chunk, _enc, cb) {
        const w = waiter;
        waiter = null;
        w?.();
        cb();
      },
    }),
    { isTTY: true, columns: WIDTH, rows: HEIGHT },
  );
  return { input, output, onWrite: (cb) => (waiter = cb) };
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (ms: number): string => (ms >= 10 ? ms.toFixed(0) : ms.toFixed(1));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Frame time: update() with a new snapshot, drawn into the headless screen. */
async function measureFrames(n: number): Promise<{ p50: number; p95: number; treeP50: number }> {
  const t = headless();
  const app = new Dashboard({
    limiter: unavailableLimiter,
    isRoot: true,
    input: t.input,
    output: t.output,
    unicode: true,
  });
  const times: number[] = [];
  const treeTimes: number[] = [];
  const snapshots = Array.from({ length: 16 }, (_, i) => syntheticSnapshot(n, i));
  try {
    for (let tick = 0; tick < 120; tick++) {
      const s = snapshots[tick % snapshots.length];
      s.monotonicSeconds = 1000 + tick;
      const t0 = performance.now();
      app.update(s);
      const dt = performance.now() - t0;
      if (tick >= 10) (app.state.tree ? treeTimes : times).push(dt);
      if (tick === 65) app.state.tree = true; // the second half in the tree view
      await new Promise((r) => setImmediate(r)); // let blessed flush like the real loop does
    }
  } finally {
    app.quit();
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95), treeP50: percentile(treeTimes, 50) };
}

/** Keypress to frame: bytes written on the input until the redrawn frame reaches the output. */
async function measureKeys(n: number): Promise<{ p50: number; p95: number; max: number }> {
  const t = headless();
  const app = new Dashboard({
    limiter: unavailableLimiter,
    isRoot: true,
    input: t.input,
    output: t.output,
    unicode: true,
  });
  const keys = [
    '\x1b[B',
    '\x1b[B',
    '\x1b[6~',
    'k',
    't',
    '\x1b[B',
    't',
    'm',
    'c',
    '/',
    's',
    'e',
    'r',
    '\r',
    '\x1b',
    '\x1b[4~',
    '\x1b[1~',
  ];
  const times: number[] = [];
  try {
    app.update(syntheticSnapshot(n, 0));
    app.update(syntheticSnapshot(n, 1));
    await sleep(20);
    for (let round = 0; round < 4; round++) {
      for (const k of keys) {
        const drawn = new Promise<void>((r) => t.onWrite(r));
        const t0 = performance.now();
        t.input.write(k);
        await drawn;
        times.push(performance.now() - t0);
        await sleep(2);
      }
    }
  } finally {
    app.quit();
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times) };
}

interface CpuFigures {
  /** Process CPU over the measured window / its wall time, in % of one core: the one figure the goal is stated in. */
  percent: number;
  cgroups: number;
  /** Wall ms of one collection, mean over the window. */
  collectMs: number;
  /** CPU ms of the Collector's collect() per tick (its share of the process's CPU). */
  collectCpuMs: number;
  /** CPU ms per tick of the tree's batch read (the kernel's reads of the kept-open files), part of collect. */
  batchCpuMs: number;
  /** CPU ms per tick of the dashboard's update (history, rows, drawing). */
  uiCpuMs: number;
  mode: string;
  /** Process CPU ms per tick (CPU over the window / ticks in it). */
  cpuMsPerTick: number;
  /** Mean ms from one tick's start to the next's (the refresh actually kept; 1,000 asked). */
  periodMs: number;
}

/**
 * CPU of the process running the dashboard on a real Collector at a 1 s interval.
 * The figure is the process's CPU (user + system, every thread) over the window
 * divided by the window's wall time: what `top` would show for the dashboard.
 */
export async function measureCpu(
  fixture: BenchCgroups | null,
  n: number,
  seconds: number,
  /** Whether the dashboard may focus the collection on its rows on screen (false: every file every tick). */
  focus = true,
  collectorOptions: CollectorOptions = {},
  /** The table's sort (the default: CPU). */
  sort: SortKey = 'cpu',
): Promise<CpuFigures> {
  const t = headless();
  let cgroups = 0;
  let collectTotal = 0;
  let collectCpuTotal = 0;
  let batchCpuTotal = 0;
  let uiCpuTotal = 0;
  const cpuSince = (c0: NodeJS.CpuUsage): number => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  let collects = 0;
  const starts: number[] = [];
  let source: SnapshotSource;
  let mode: string;
  if (fixture) {
    const collector = new Collector({ ...collectorOptions, ...DASHBOARD_COLLECTOR }); // as `tstop` runs it
    await collector.ready();
    const beginTick = collector.tree.beginTick.bind(collector.tree);
    collector.tree.beginTick = () => {
      const c0 = process.cpuUsage();
      beginTick();
      batchCpuTotal += cpuSince(c0);
    };
    source = {
      collect: () => {
        const t0 = performance.now();
        starts.push(t0);
        const c0 = process.cpuUsage();
        const s = collector.collect();
        const c = process.cpuUsage(c0);
        collectCpuTotal += (c.user + c.system) / 1000;
        collectTotal += performance.now() - t0;
        collects++;
        cgroups = s.containers.length;
        return s;
      },
      close: () => collector.close(),
      ...(focus ? { focus: (f) => collector.focus(f), staleFields: (id: string) => collector.staleFields(id) } : {}),
    };
    mode = `collector on real cgroups, ${focus ? 'focused on the rows on screen' : 'every file every tick'}${sort === 'cpu' ? '' : `, sorted by ${sort}`}`;
  } else {
    // Made up front, so what is measured is the UI, not the making of snapshots.
    const snapshots = Array.from({ length: 16 }, (_, i) => syntheticSnapshot(n, i));
    let tick = 0;
    source = {
      collect: () => {
        starts.push(performance.now());
        const s = snapshots[tick % snapshots.length];
        s.monotonicSeconds = 1000 + tick++;
        cgroups = s.containers.length;
        collects++;
        return s;
      },
      close: () => undefined,
    };
    mode = 'synthetic snapshots (not root)';
  }
  const app = new Dashboard({
    source,
    limiter: unavailableLimiter,
    isRoot: true,
    input: t.input,
    output: t.output,
    unicode: true,
    state: { intervalMs: 1000, sort },
  });
  const update = app.update.bind(app);
  app.update = (snapshot, addToHistory) => {
    const c0 = process.cpuUsage();
    update(snapshot, addToHistory);
    uiCpuTotal += cpuSince(c0);
  };
  const done = app.start();
  await sleep(3000); // warm up: first ticks, JIT
  collectTotal = 0;
  collectCpuTotal = 0;
  batchCpuTotal = 0;
  uiCpuTotal = 0;
  collects = 0;
  starts.length = 0;
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = performance.now() - w0;
  const ticks = collects;
  app.quit();
  await done;
  const cpuMs = (c.user + c.system) / 1000;
  return {
    percent: (cpuMs / wall) * 100,
    cgroups,
    collectMs: ticks ? collectTotal / ticks : 0,
    collectCpuMs: ticks ? collectCpuTotal / ticks : 0,
    batchCpuMs: ticks ? batchCpuTotal / ticks : 0,
    uiCpuMs: ticks ? uiCpuTotal / ticks : 0,
    mode,
    cpuMsPerTick: ticks ? cpuMs / ticks : NaN,
    periodMs: starts.length > 1 ? (starts[starts.length - 1] - starts[0]) / (starts.length - 1) : NaN,
  };
}

/** One line for a CPU run: the share of a core over the run, and what it is made of per tick. */
function cpuLine(cpu: CpuFigures): string {
  return (
    `dashboard: cpu ${cpu.percent.toFixed(1)} % of a core = UI + ${cpu.mode} (${cpu.cgroups} cgroups; ` +
    `a tick every ${fmt(cpu.periodMs)} ms, process CPU ${fmt(cpu.cpuMsPerTick)} ms per tick of which collect ${fmt(cpu.collectCpuMs)} ms ` +
    `(batch read ${fmt(cpu.batchCpuMs)}), UI ${fmt(cpu.uiCpuMs)} ms; ` +
    `collect ${fmt(cpu.collectMs)} ms wall)`
  );
}

export async function bench(options: { cgroups: number; fixture?: BenchCgroups }): Promise<string[]> {
  const n = options.cgroups;
  const frames = await measureFrames(n);
  const keys = await measureKeys(n);
  let fixture = options.fixture ?? null;
  let own = false;
  if (!fixture && process.getuid?.() === 0) {
    fixture = await createBenchCgroups(n);
    own = true;
  }
  const uiOnly = await measureCpu(null, n, 10);
  let cpu = uiOnly;
  let unfocused: typeof cpu | null = null;
  if (fixture) {
    try {
      // 120 s: the periodic rescan (2 min) and two turns of the off-screen limits (60 s) are in it.
      cpu = await measureCpu(fixture, n, 120);
      unfocused = await measureCpu(fixture, n, 20, false);
    } finally {
      if (own) await fixture.cleanup();
    }
  }
  const lines = [
    `dashboard: ${n} rows, frame ${fmt(frames.p50)} ms p50, cpu ${cpu.percent.toFixed(1)} % at 1 s`,
    `dashboard: frame p95 ${fmt(frames.p95)} ms, tree view p50 ${fmt(frames.treeP50)} ms (${WIDTH}x${HEIGHT} headless screen)`,
    `dashboard: keypress to frame p50 ${fmt(keys.p50)} ms, p95 ${fmt(keys.p95)} ms, max ${fmt(keys.max)} ms`,
    `dashboard: cpu ${uiOnly.percent.toFixed(1)} % at 1 s for the UI alone (synthetic snapshots, no collection)`,
  ];
  if (cpu !== uiOnly) lines.push(cpuLine(cpu));
  if (unfocused) lines.push(cpuLine(unfocused));
  return lines;
}

/**
 * Only the process's CPU on real cgroups (for profiling: `node --cpu-prof dist/bench/dashboard.js
 * --cpu-only --seconds 20`): the bench's own N cgroups, one run, focused unless --every-file.
 */
async function cpuOnly(
  n: number,
  seconds: number,
  focus: boolean,
  isolated: boolean,
  sort: SortKey,
): Promise<string[]> {
  const fixture = await createBenchCgroups(n);
  const root = isolated ? isolatedRoot(fixture) : null;
  try {
    return [cpuLine(await measureCpu(fixture, n, seconds, focus, root ? { root } : {}, sort))];
  } finally {
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await fixture.cleanup();
  }
}

/**
 * A filesystem root (--root) whose cgroup mounts are symlinks to the fixture's
 * parent in each hierarchy, and whose /proc is the host's: the collector sees
 * the fixture's cgroups only, not other benchmarks' running on a shared host.
 */
export function isolatedRoot(fixture: BenchCgroups): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-root-'));
  fs.symlinkSync('/proc', path.join(root, 'proc'));
  for (const h of fixture.mounts.hierarchies) {
    const link = path.join(root, h.mountPoint);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(h.mountPoint, fixture.parent), link);
  }
  return root;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      cgroups: { type: 'string', default: '1000' },
      'cpu-only': { type: 'boolean', default: false },
      'every-file': { type: 'boolean', default: false },
      seconds: { type: 'string', default: '10' },
      isolated: { type: 'boolean', default: false },
      sort: { type: 'string', default: 'cpu' },
    },
  });
  if (!(SORT_KEYS as readonly string[]).includes(values.sort))
    throw new Error(`--sort: one of ${SORT_KEYS.join(', ')}`);
  const run = values['cpu-only']
    ? cpuOnly(
        Number(values.cgroups),
        Number(values.seconds),
        !values['every-file'],
        values.isolated,
        values.sort as SortKey,
      )
    : bench({ cgroups: Number(values.cgroups) });
  run.then(
    (lines) => {
      for (const l of lines) console.log(l);
    },
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
      process.exitCode = 1;
    },
  );
}
