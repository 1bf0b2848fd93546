// The command entries the *-entry tests compare (bin/tstop.js, the CLI's,
// against a command's bundled bin/tstop-X.cjs) and the loader hooks that log
// which modules a process loads.

import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
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

/** What the loader hooks logged on stderr: the ES modules loaded and the files required, relative to the checkout. */
export function loggedLoads(stderr: string): { modules: string[]; required: string[] } {
  const relative = (m: RegExpMatchArray): string => path.relative(repoRoot, m[1]);
  return {
    modules: [...stderr.matchAll(/^loaded file:\/\/(\S+)$/gm)].map(relative),
    required: [...stderr.matchAll(/^required (\S+)$/gm)].map(relative),
  };
}

/**
 * That a process ran from its bundle (dist/.../NAME.cjs) alone: no ES module
 * of dist, and of dist's files only NAME and the bundler's runtime helpers.
 */
export function expectBundleOnly(stderr: string, name: string): void {
  const { modules, required } = loggedLoads(stderr);
  expect(modules.filter((f) => f.startsWith('dist/'))).toEqual([]);
  const bundled = required.filter((f) => f.startsWith('dist/')).map((f) => path.basename(f));
  expect(bundled).toContain(`${name}.cjs`);
  expect(bundled.filter((f) => !f.startsWith(name) && !f.startsWith('rolldown-runtime'))).toEqual([]);
}
