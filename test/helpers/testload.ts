// Builds test/helpers/testload.c once per run (vitest global setup) with the
// machine's C compiler; tests start it through TestCgroups.spawn.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const source = path.join(here, 'testload.c');
const output = path.resolve(here, '../.build/testload');

export function testloadPath(): string {
  return output;
}

export function buildTestload(): void {
  const fresh = fs.existsSync(output) && fs.statSync(output).mtimeMs >= fs.statSync(source).mtimeMs;
  if (fresh) return;
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const tmp = `${output}.${process.pid}`;
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tmp, source], { stdio: 'inherit' });
  fs.renameSync(tmp, output);
}

/**
 * Whether a spinner under a CPU cap can be expected to reach it: the cap is an upper bound, and a
 * lower bound only holds when the machine had a spare core to give (1-minute load average at most
 * cores - 1). Otherwise says so on stdout, naming the test's check.
 */
export function spareCoreFor(check: string): boolean {
  const load = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  const cores = os.availableParallelism();
  if (load <= cores - 1) return true;
  console.info(`${check}: load average ${load} on ${cores} CPUs: not checking the lower bound`);
  return false;
}
