// Bundles the launcher's entry (dist/src/cli/launch-main.js, compiled by tsc)
// and everything it loads into one ES module, dist/launch/tstop-launch.js,
// which bin/tstop.js starts for run, exec, ps, stop and rm. Packages
// (koffi, prom-client, ...) stay imports; code the launch path imports on
// demand (limits, logs) is inlined, since a run with limits should not pay
// for extra files either. Without rolldown (a production install without
// devDependencies) the bundle is skipped and bin/tstop.js loads dist/ as is.
// Measured in docs/benchmarks.md, "Launcher".

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/launch/tstop-launch.js');
let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch {
  fs.rmSync(out, { force: true });
  process.stderr.write('build-launcher: rolldown not installed, launcher not bundled (tstop run starts ~8 ms slower)\n');
  process.exit(0);
}
const bundle = await rolldown({
  input: path.join(root, 'dist/src/cli/launch-main.js'),
  platform: 'node',
  external: [/^[^./]/], // node: builtins and packages
  logLevel: 'warn',
});
await bundle.write({ file: out, format: 'esm', codeSplitting: false });
await bundle.close();
