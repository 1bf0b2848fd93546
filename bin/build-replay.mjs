// Bundles the entry of `tstop snapshot` on a recorded store
// (dist/src/cli/replay-main.js, compiled by tsc) into CommonJS files under
// dist/replay/, which bin/tstop-replay.cjs loads: tstop-replay.cjs holds the
// seek's whole path, and what the command imports only off that path (the
// collector, the fleet client) goes to chunks it does not load
// (bin/bundle-path.mjs). Without rolldown (a production install without
// devDependencies) the bundle is skipped and bin/tstop-replay.cjs starts bin/tstop.js.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleStaticPath } from './bundle-path.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = await bundleStaticPath({
  entry: path.join(root, 'dist/src/cli/replay-main.js'),
  outDir: path.join(root, 'dist/replay'),
  name: 'tstop-replay',
});
if (!built) process.stderr.write('build-replay: rolldown not installed, snapshot --at not bundled (it starts ~20 ms slower)\n');
