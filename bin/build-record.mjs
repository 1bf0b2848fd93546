// Bundles the entry of `tstop record` (dist/src/cli/record-main.js, compiled
// by tsc) into CommonJS files under dist/record/, which bin/tstop-record.cjs
// loads: tstop-record.cjs holds the recorder's static path, and what it
// imports only on demand (--guard, the limiter for a due expiry) goes to
// chunks loaded then (bin/bundle-path.mjs). Without its ES module loader node
// starts the recorder with less CPU (docs/record.md). Without rolldown (a
// production install without devDependencies) the bundle is skipped and
// bin/tstop-record.cjs starts bin/tstop.js.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleStaticPath } from './bundle-path.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = await bundleStaticPath({
  entry: path.join(root, 'dist/src/cli/record-main.js'),
  outDir: path.join(root, 'dist/record'),
  name: 'tstop-record',
});
if (!built) process.stderr.write('build-record: rolldown not installed, record not bundled (it loads its ES modules)\n');
