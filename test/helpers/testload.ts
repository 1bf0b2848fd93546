// Builds test/helpers/testload.c once per run (vitest global setup) with the
// machine's C compiler; tests start it through TestCgroups.spawn.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
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
