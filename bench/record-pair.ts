// record (side by side): `tstop record --interval 5s` of this checkout and of
// another (--against DIR, e.g. /work/wt/prev) recording the same N bench
// cgroups (through an isolated root: bench/dashboard.ts) at the same time, each into its own temporary store, so both see
// the same host load. Their CPU per wall second is read from /proc/<pid>/stat
// after the first sample (start-up left out), over --seconds (default 90:
// at least one 30 s describe pass and nine 10 s settings refreshes of the old way).
//
// Run alone: npm run build && node dist/bench/record-pair.js [cgroups] --against DIR [--seconds S]

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuSeconds, loadAverages, tstopBin } from './export-process.js';
import { pairCommandLine } from './export-pair.js';
import { isolatedRoot } from './dashboard.js';
import { createBenchCgroups } from './fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The store holds a first sample (a segment file with bytes). */
function recorded(store: string): boolean {
  try {
    return fs.readdirSync(store).some((f) => f.startsWith('seg-') && fs.statSync(path.join(store, f)).size > 0);
  } catch {
    return false;
  }
}

export async function recordPair(cgroups: number, against: string, seconds: number): Promise<string[]> {
  const bench = await createBenchCgroups(cgroups);
  const root = isolatedRoot(bench);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-record-pair-'));
  const children: ChildProcess[] = [];
  try {
    const runs = [
      { label: 'this checkout', bin: tstopBin() },
      { label: against, bin: path.join(against, 'bin', 'tstop') },
    ].map((r, i) => {
      const store = path.join(tmp, `store-${i}`);
      const child = spawn(r.bin, ['record', '--store', store, '--interval', '5s', '--root', root], { stdio: 'ignore' });
      children.push(child);
      return { ...r, store, child };
    });
    const deadline = Date.now() + 120_000;
    while (!runs.every((r) => recorded(r.store)) && Date.now() < deadline) await sleep(100);
    const t0 = performance.now();
    const cpu0 = runs.map((r) => cpuSeconds(r.child.pid!));
    await sleep(seconds * 1000);
    const wall = (performance.now() - t0) / 1000;
    const load = loadAverages();
    return runs.map(
      (r, i) =>
        `record --interval 5s at ${cgroups} cgroups (${r.label}): ${(((cpuSeconds(r.child.pid!) - cpu0[i]) / wall) * 100).toFixed(2)} % of a core over ${wall.toFixed(0)} s (load ${load})`,
    );
  } finally {
    for (const c of children) c.kill('SIGINT');
    await sleep(2000);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
    await bench.cleanup();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { cgroups, against, seconds } = pairCommandLine(90);
  for (const line of await recordPair(cgroups, against, seconds)) console.log(line);
}
