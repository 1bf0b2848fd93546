// A detached container's log path against its floors, interleaved in one run:
//
//   write   a workload prints LINES lines of 60 bytes through the helper's
//           logger (CRI records, native/src/logger.c), no rotation / rotated
//           at 10m x 3 (the default), against the same workload writing
//           straight into a file (the helper without a logger: the floor)
//   read    `tstop logs` (printLog, src/launcher/log-read.ts) of that log to
//           /dev/null, against reading the same bytes (the floor)
//
// Medians of RUNS runs. The helper runs in its own namespaces without
// cgroups; files go to a temporary directory, removed at the end. The
// helper's 'close' waits for the logger too (it keeps the report pipe open).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { printLog } from '../src/launcher/log-read.js';
import { spawnHelper } from '../src/launcher/spawn.js';
import { resolveCapabilities, type RunSpec } from '../src/launcher/spec.js';

const RUNS = 5;
const LINES = 200_000;
const LINE = 'x'.repeat(59); // + newline: 60 bytes
const MB = 1024 * 1024;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The workload; with `into`, its output goes straight to that file (the floor). */
function spec(log?: RunSpec['log'], into?: string): RunSpec {
  return {
    mode: 'run',
    argv: ['/bin/sh', '-c', `yes ${LINE} | head -n ${LINES}${into ? ` > ${into}` : ''}`],
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    namespaces: ['mnt', 'uts', 'ipc', 'pid', 'net'],
    capabilities: resolveCapabilities(),
    ...(log ? { log } : {}),
  };
}

async function timedRun(s: RunSpec): Promise<number> {
  const t0 = process.hrtime.bigint();
  const h = spawnHelper(s, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exit = await h.exited;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (exit.code !== 0) throw new Error(`the workload failed (${exit.code})`);
  return ms;
}

function dirSize(dir: string, prefix: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(prefix))
    .reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

export async function bench(): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-logs-'));
  const mb = (LINES * 60) / MB;
  const times: Record<'floor' | 'logger' | 'rotated' | 'read' | 'readFloor', number[]> = {
    floor: [],
    logger: [],
    rotated: [],
    read: [],
    readFloor: [],
  };
  let logBytes = 0;
  try {
    const devnull = fs.createWriteStream('/dev/null');
    for (let i = 0; i < RUNS; i++) {
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
      times.floor.push(await timedRun(spec(undefined, path.join(dir, 'plain.out'))));
      const one = { path: path.join(dir, 'one.log'), maxBytes: 1024 * MB, maxFiles: 1 };
      times.logger.push(await timedRun(spec(one)));
      logBytes = dirSize(dir, 'one.log');
      const rotated = { path: path.join(dir, 'rot.log'), maxBytes: 10 * MB, maxFiles: 3 };
      times.rotated.push(await timedRun(spec(rotated)));

      let t0 = process.hrtime.bigint();
      await printLog(
        dir,
        'one',
        { follow: false, tail: null, sinceMs: null, timestamps: false },
        {
          stdout: devnull,
          stderr: devnull,
        },
      );
      times.read.push(Number(process.hrtime.bigint() - t0) / 1e6);
      t0 = process.hrtime.bigint();
      const fd = fs.openSync(path.join(dir, 'one.log'), 'r');
      const buf = Buffer.alloc(256 * 1024);
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
      fs.closeSync(fd);
      times.readFloor.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    devnull.end();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof times,
    number
  >;
  const rate = (ms: number): string => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  const lines = (ms: number): string => `${(LINES / (ms / 1000) / 1e6).toFixed(2)} M lines/s`;
  return [
    `logs: ${LINES} lines of 60 bytes (${mb.toFixed(1)} MB of text, ${(logBytes / MB).toFixed(1)} MB as CRI records), medians of ${RUNS}`,
    `logs: write straight to a file (floor)  ${m.floor.toFixed(0)} ms  ${rate(m.floor)}`,
    `logs: write through the logger          ${m.logger.toFixed(0)} ms  ${rate(m.logger)}  ${lines(m.logger)}  (+${(m.logger - m.floor).toFixed(0)} ms)`,
    `logs: the same, rotated at 10m x 3      ${m.rotated.toFixed(0)} ms  ${rate(m.rotated)}`,
    `logs: read the file (floor)             ${m.readFloor.toFixed(0)} ms`,
    `logs: tstop logs (printLog) to /dev/null ${m.read.toFixed(0)} ms  ${rate(m.read)}  ${lines(m.read)}`,
  ];
}
