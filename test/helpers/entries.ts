// The command entries the *-entry tests compare (bin/tstop.js, the CLI's,
// against a command's bundled bin/tstop-X.cjs) and the loader hooks that log
// which modules a process loads.

import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../..');
export const cliEntry = path.join(repoRoot, 'bin/tstop.js');
export const logLoads = path.join(repoRoot, 'test/fixtures/loader/log-loads.mjs');
export const logRequires = path.join(repoRoot, 'test/fixtures/loader/log-requires.cjs');

/** bin/NAME of this checkout. */
export function binEntry(name: string): string {
  return path.join(repoRoot, 'bin', name);
}

/** `node ENTRY ARGS`, to its end. */
export function runEntry(entry: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
