// collect: tstop's collection tick against the floor, a C program that reads
// the same files with the same method (traced from a real tick), measured
// side by side in the same run.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Collector } from '../src/collect/collector.js';
import type { Snapshot } from '../src/model/types.js';
import type { BenchCgroups } from './fixture.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Peak RSS (VmHWM) of a process, in MB; NaN once it is gone. */
export function peakRssMb(pid: number | 'self' = 'self'): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Peak RSS of a collecting process as users run one: the installed bin (its
 * V8 flags bin/tstop gives it included) printing 30 back-to-back JSON snapshots.
 */
async function collectingProcessRssMb(): Promise<number> {
  const bin = path.resolve(here, '../../bin/tstop');
  const child = spawn(bin, ['snapshot', '--json', '--count', '30', '--interval', '0'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peak = 0;
  const timer = setInterval(() => {
    const v = peakRssMb(child.pid!);
    if (!Number.isNaN(v)) peak = Math.max(peak, v);
  }, 20);
  // VmHWM only grows: the reading just before exit is the peak; the exit
  // handler runs after the last poll could see the process.
  await new Promise((r) => child.once('exit', r));
  clearInterval(timer);
  return peak;
}

function buildFloor(dir: string): string {
  const source = path.resolve(here, '../../bench/floor.c');
  const out = path.join(dir, 'floor');
  execFileSync('cc', ['-O2', '-o', out, source]);
  return out;
}

export async function bench(options: { cgroups: number; fixture: BenchCgroups }): Promise<string[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-'));
  const collector = new Collector({ watch: true, rescanIntervalMs: 3_600_000 });
  try {
    await collector.ready();
    // Idle cgroups give back their execution files' descriptors after 3 idle ticks.
    for (let i = 0; i < 5; i++) collector.collect();

    // Trace one tick: every file and how it was read. The collector's own
    // procfs reads (host memory, CPU, PSI) are open-read-close.
    // The floor is "today's file set" (issue 14): every file a tick read
    // before files that cannot have changed were served from their last
    // bytes (gateIdle off: idle cgroups' execution counters, PSI of empty
    // cgroups at rest, unwritten cgroup.freeze); the set tstop reads now is
    // traced too.
    const traceTick = (gateIdle: boolean): { reads: string[]; snapshot: Snapshot } => {
      const reads: string[] = [];
      collector.tree.gateIdle = gateIdle;
      collector.collect(); // the gate needs one tick of history
      collector.tree.reader.trace = (p, method) => reads.push(`${method} ${p}`);
      const snapshot = collector.collect();
      collector.tree.reader.trace = null;
      collector.tree.gateIdle = true;
      for (const f of ['proc/meminfo', 'proc/stat', 'proc/pressure/cpu', 'proc/pressure/memory', 'proc/pressure/io']) {
        reads.push(`open-read-close /${f}`);
      }
      return { reads, snapshot };
    };
    const { reads, snapshot: traced } = traceTick(false);
    const { reads: readsNow } = traceTick(true);
    const list = path.join(work, 'reads.txt');
    fs.writeFileSync(list, reads.join('\n') + '\n');
    const listNow = path.join(work, 'reads-now.txt');
    fs.writeFileSync(listNow, readsNow.join('\n') + '\n');
    const floor = buildFloor(work);

    const tstopMs: number[] = [];
    const tstopCpuMs: number[] = [];
    const ungatedMs: number[] = [];
    const floorMs: number[] = [];
    const floorCpuMs: number[] = [];
    const floorNowMs: number[] = [];
    /** floor's lines: wall ms, CPU ms. */
    const runFloor = (file: string, wall: number[], cpu: number[] | null): void => {
      const out = execFileSync(floor, [file, '10'], { encoding: 'utf8' });
      for (const line of out.trim().split('\n')) {
        const [w, c] = line.split(' ').map(Number);
        wall.push(w);
        cpu?.push(c);
      }
    };
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        collector.collect();
        tstopMs.push(performance.now() - t0);
        const cpu = process.cpuUsage(cpu0);
        tstopCpuMs.push((cpu.user + cpu.system) / 1000);
      }
      // The same collector reading every file (idle cgroups' execution counters too), side by side.
      collector.tree.gateIdle = false;
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        collector.collect();
        if (i > 0) ungatedMs.push(performance.now() - t0); // the first re-reads what the gate skipped
      }
      collector.tree.gateIdle = true;
      collector.collect(); // the gate's history again
      runFloor(list, floorMs, floorCpuMs);
      runFloor(listNow, floorNowMs, null);
    }
    const t0 = performance.now();
    collector.tree.rescan();
    const rescanMs = performance.now() - t0;
    const rssMb = await collectingProcessRssMb();

    const tstop = median(tstopMs);
    const base = median(floorMs);
    const baseNow = median(floorNowMs);
    const kept = reads.filter((r) => r.startsWith('pread')).length;
    const keptNow = readsNow.filter((r) => r.startsWith('pread')).length;
    return [
      `collect: ${traced.containers.length} cgroups, tstop ${tstop.toFixed(1)} ms/tick, floor ${base.toFixed(1)} ms/tick, ratio ${(tstop / base).toFixed(2)}` +
        ` (floor: the pread floor of the full file set; of the files tstop reads now ${baseNow.toFixed(1)} ms/tick, ratio ${(tstop / baseNow).toFixed(2)})`,
      `collect: ${reads.length} reads per tick in the full set (${kept} on descriptors kept open, ${reads.length - kept} open-read-close), ` +
        `${readsNow.length} read now (${keptNow} kept open; the rest served from their last bytes: idle cgroups' execution counters, empty cgroups' PSI at rest, unwritten cgroup.freeze), ` +
        `${collector.openDescriptors} descriptors open (budget ${collector.tree.reader.fdBudget})`,
      `collect: CPU per tick (user + system): tstop ${median(tstopCpuMs).toFixed(1)} ms, the full set's floor ${median(floorCpuMs).toFixed(1)} ms, ratio ${(median(tstopCpuMs) / median(floorCpuMs)).toFixed(2)}; load ${os.loadavg()[0].toFixed(1)}`,
      `collect: reading every file (nothing from last bytes) ${median(ungatedMs).toFixed(1)} ms/tick, ratio ${(median(ungatedMs) / base).toFixed(2)} to the full set's floor`,
      `collect: full rescan ${rescanMs.toFixed(1)} ms (every 30 s when watching); ` +
        `peak RSS of \`tstop snapshot --json --count 30 --interval 0\` ${rssMb.toFixed(0)} MB`,
    ];
  } finally {
    collector.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
