// Dashboard benchmark: the dashboard drawn into a headless 160x48 screen.
//  - frame: one tick's work for the UI (history, rows sorted and filtered,
//    visible rows formatted, blessed's diff written out) with N cgroups in
//    synthetic snapshots whose numbers change every frame;
//  - keypress: from a key's bytes on the input to the redrawn frame on the
//    output (moving, tree toggle, re-sort, filter typing);
//  - cpu: the whole process (Collector on the real cgroups of the fixture,
//    watching, plus the UI) at a 1 s interval for 10 s, as `tstop` runs it.
// Goals: frame <= 30 ms, keypress to frame <= 50 ms, CPU <= 5 % of a core.
// Standalone: node dist/bench/dashboard.js [--cgroups N] (root for the cpu part).

import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { unavailableLimiter } from '../src/cli/dashboard-limiter.js';
import { Collector } from '../src/collect/collector.js';
import { NAMESPACE_TYPES, type ContainerSnapshot, type Namespaces, type Snapshot } from '../src/model/types.js';
import { Dashboard } from '../ui/app.js';
import { createBenchCgroups, type BenchCgroups } from './fixture.js';

const WIDTH = 160;
const HEIGHT = 48;
const MiB = 1024 * 1024;

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

function namespaces(i: number): Namespaces {
  const ns = {} as Namespaces;
  NAMESPACE_TYPES.forEach((t, k) => (ns[t] = { inode: 4026532000 + i * 8 + k, isolated: true }));
  return ns;
}

/** N containers like a busy host's, their numbers moving with `tick`. */
export function syntheticSnapshot(n: number, tick: number): Snapshot {
  const containers: ContainerSnapshot[] = [];
  for (let i = 0; i < n; i++) {
    const wave = (Math.sin(i * 0.37 + tick * 0.9) + 1) / 2;
    const cpu = wave * 180;
    const mem = (50 + ((i * 37) % 900)) * MiB * (0.8 + wave * 0.2);
    containers.push({
      id: `/system.slice/docker-${String(i).padStart(6, '0')}.scope`,
      name: `service-${i % 97}-${i}`,
      runtime: 'docker',
      containerId: String(i).padStart(64, '0'),
      image: `registry.example/app-${i % 13}:1.${i % 7}`,
      kubernetes: null,
      inode: 100_000 + i,
      populated: true,
      processes: [10_000 + i * 3, 10_001 + i * 3],
      initPid: 10_000 + i * 3,
      startTimeSeconds: 1_700_000_000,
      cpu: {
        usageSeconds: 1000 + tick,
        userSeconds: 600,
        systemSeconds: 400,
        percent: cpu,
        quotaPercent: i % 3 === 0 ? cpu / 2 : null,
        quotaCores: i % 3 === 0 ? 2 : null,
        quotaMicroseconds: i % 3 === 0 ? 200000 : null,
        periodMicroseconds: i % 3 === 0 ? 100000 : null,
        shares: 1024,
        weight: null,
        periods: 10 * tick,
        throttledPeriods: tick,
        throttledSeconds: tick / 10,
        throttledPercent: i % 3 === 0 ? wave * 30 : 0,
        cpus: '0-1',
        mems: '0',
      },
      memory: {
        usageBytes: mem * 1.1,
        maxUsageBytes: mem * 1.3,
        workingSetBytes: mem,
        anonBytes: mem * 0.7,
        fileBytes: mem * 0.4,
        inactiveFileBytes: mem * 0.1,
        mappedFileBytes: mem * 0.05,
        swapBytes: 0,
        kernelBytes: 2 * MiB,
        limitBytes: i % 2 === 0 ? 1024 * MiB : null,
        highBytes: null,
        softLimitBytes: null,
        lowBytes: null,
        minBytes: null,
        swapLimitBytes: null,
        failcnt: 0,
        pageFaults: 1000 * tick,
        majorPageFaults: tick,
        oomKills: i % 101 === 0 ? tick >> 4 : 0,
        events: null,
      },
      io: {
        devices: [],
        limits: [],
        weight: null,
        readBytesPerSecond: wave * 5 * MiB,
        writeBytesPerSecond: (1 - wave) * 2 * MiB,
      },
      pids: { current: 2 + (i % 40), limit: i % 4 === 0 ? 100 : null, peak: null, limitHits: 0 },
      devices: { rules: [{ type: 'c', major: 1, minor: 3, access: 'rwm' }], note: null },
      hugetlb: [],
      freezer: 'thawed',
      pressure: {
        cpu: null,
        memory: { some: { avg10: wave * 5, avg60: 1, avg300: 1, totalSeconds: tick }, full: null },
        io: null,
      },
      namespaces: namespaces(i),
      capabilities: { effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: [], bounding: [] },
      network: [
        {
          interface: 'eth0',
          rxBytes: 0,
          rxPackets: 0,
          rxErrors: 0,
          rxDropped: 0,
          txBytes: 0,
          txPackets: 0,
          txErrors: 0,
          txDropped: 0,
          rxBytesPerSecond: wave * 100_000,
          txBytesPerSecond: wave * 50_000,
        },
      ],
    });
  }
  return {
    timestamp: new Date(1_767_000_000_000 + tick * 1000).toISOString(),
    monotonicSeconds: 1000 + tick,
    host: {
      hostname: 'bench',
      kernel: '6.18.0',
      cgroupMode: 'hybrid',
      cpus: 32,
      memoryBytes: 128 * 1024 * MiB,
      memoryAvailableBytes: 64 * 1024 * MiB,
      cpuUsageSeconds: 1000 + tick,
      cpuPercent: 800,
      pressure: null,
      namespaceReference: '/proc/1/ns',
      v2Controllers: [],
      machineId: null,
      bootId: null,
      systemUuid: null,
      network: null,
    },
    containers,
    notes: [],
  };
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

/** CPU of the process running the dashboard on a real Collector at a 1 s interval. */
async function measureCpu(
  fixture: BenchCgroups | null,
  n: number,
  seconds: number,
): Promise<{ percent: number; cgroups: number; collectMs: number; mode: string }> {
  const t = headless();
  let cgroups = 0;
  let collectTotal = 0;
  let collects = 0;
  let source: { collect(): Snapshot; close(): void };
  let mode: string;
  if (fixture) {
    const collector = new Collector({ watch: true });
    await collector.ready();
    source = {
      collect: () => {
        const t0 = performance.now();
        const s = collector.collect();
        collectTotal += performance.now() - t0;
        collects++;
        cgroups = s.containers.length;
        return s;
      },
      close: () => collector.close(),
    };
    mode = 'collector on real cgroups';
  } else {
    // Made up front, so what is measured is the UI, not the making of snapshots.
    const snapshots = Array.from({ length: 16 }, (_, i) => syntheticSnapshot(n, i));
    let tick = 0;
    source = {
      collect: () => {
        const s = snapshots[tick % snapshots.length];
        s.monotonicSeconds = 1000 + tick++;
        cgroups = s.containers.length;
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
    state: { intervalMs: 1000 },
  });
  const done = app.start();
  await sleep(3000); // warm up: first ticks, JIT
  collectTotal = 0;
  collects = 0;
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = performance.now() - w0;
  app.quit();
  await done;
  return {
    percent: ((c.user + c.system) / 1000 / wall) * 100,
    cgroups,
    collectMs: collects ? collectTotal / collects : 0,
    mode,
  };
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
  if (fixture) {
    try {
      cpu = await measureCpu(fixture, n, 10);
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
  if (cpu !== uiOnly) {
    lines.push(
      `dashboard: cpu ${cpu.percent.toFixed(1)} % = UI + ${cpu.mode} (${cpu.cgroups} cgroups, collect ${fmt(cpu.collectMs)} ms wall per tick)`,
    );
  }
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { cgroups: { type: 'string', default: '1000' } } });
  bench({ cgroups: Number(values.cgroups) }).then(
    (lines) => {
      for (const l of lines) console.log(l);
    },
    (err: unknown) => {
      console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
      process.exitCode = 1;
    },
  );
}
