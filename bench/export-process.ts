// Starts `tstop export` as a child process (the built CLI in dist/) on a
// free loopback port and waits for its "listening on URL" line. Shared by
// the exporter's integration tests and bench/scrape.ts, with freePort for
// the other servers they start (Prometheus).

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A loopback port free at the time of asking (for a server a test or bench starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** bin/tstop of this checkout (the sh script that gives node its flags), from bench/ or dist/bench/. */
export function tstopBin(): string {
  for (const rel of ['../bin/tstop', '../../bin/tstop']) {
    const p = path.resolve(here, rel);
    if (fs.existsSync(p)) return p;
  }
  throw new Error('bin/tstop not found');
}

export interface ExportProcess {
  child: ChildProcess;
  pid: number;
  /** e.g. http://127.0.0.1:40123/ */
  url: string;
  port: number;
  stderr: () => string;
  stop(): Promise<void>;
}

export async function startExportProcess(
  args: string[],
  /**
   * bin: another checkout's bin/tstop (bench/scrape.ts --against); nodeFlags:
   * node's flags instead of the ones bin/tstop gives (bench/scrape.ts --node-flags).
   */
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; bin?: string; nodeFlags?: string[] } = {},
): Promise<ExportProcess> {
  const bin = options.bin ?? tstopBin();
  const distMain = path.resolve(path.dirname(bin), '../dist/src/cli/main.js');
  if (!fs.existsSync(distMain)) throw new Error(`${distMain} missing: run \`npm run build\` first`);
  // The bin itself, as users start it: bin/tstop gives export its V8 flags (a 4 MB young generation).
  const exportArgs = ['export', '--listen', '127.0.0.1:0', ...args];
  const [command, commandArgs] = options.nodeFlags
    ? [process.execPath, [...options.nodeFlags, '--', path.join(path.dirname(bin), 'tstop.js'), ...exportArgs]]
    : [bin, exportArgs];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tstop export did not start: ${err}`)),
      options.timeoutMs ?? 30_000,
    );
    const onData = (): void => {
      const m = /listening on (\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tstop export exited (${code}): ${err}`));
    });
  });
  return {
    child,
    pid: child.pid!,
    url,
    port: Number(new URL(url).port),
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The benches' MB: 2^20 bytes, so that VmRSS and VmHWM (kB) read as /proc's kB / 1024 in every bench. */
export const MB = 1024 * 1024;

/** Resident set size of a process in MB (VmRSS). */
export function rssMb(pid: number): number {
  return rssBytes(pid) / MB;
}

/** Resident set size of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const { userSeconds, systemSeconds } = cpuSplitSeconds(pid);
  return userSeconds + systemSeconds;
}

/** A process's CPU so far in user and in kernel mode (utime, stime), in seconds. */
export function cpuSplitSeconds(pid: number): { userSeconds: number; systemSeconds: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15, in clock ticks of 1/100 s.
  return { userSeconds: Number(fields[11]) / 100, systemSeconds: Number(fields[12]) / 100 };
}

/** The 1, 5 and 15 minute load averages ("0.42 0.61 1.05"), for the line of every side-by-side figure. */
export function loadAverages(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}
