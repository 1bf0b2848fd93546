// Bundles the entry of `tstop snapshot` on a recorded store
// (dist/src/cli/replay-main.js, compiled by tsc) into CommonJS files under
// dist/replay/, which bin/tstop-replay.cjs loads: tstop-replay.cjs holds the
// seek's whole path, and what the command imports only off that path (the
// collector, the fleet client) goes to chunks it does not load
// (bin/bundle-path.mjs). Without rolldown (a production install without
// devDependencies) the bundle is skipped and bin/tstop-replay.cjs starts bin/tstop.js.

import { bundleCliEntry } from './bundle-path.mjs';

await bundleCliEntry({
  main: 'replay-main',
  dir: 'replay',
  name: 'tstop-replay',
  skipped: 'build-replay: rolldown not installed, snapshot --at not bundled (it starts ~20 ms slower)',
});
