// Bundles the entry of `tstop export` (dist/src/cli/export-main.js, compiled
// by tsc) into CommonJS files under dist/export/, which bin/tstop-export.cjs
// loads: tstop-export.cjs holds the exporter's static path, and what it
// imports only on demand (--record, --enable-write-api, --guard, the limiter
// for a due expiry) goes to chunks loaded then (bin/bundle-path.mjs). Without
// its ES module loader node keeps ~1.4 MB less RSS in a process that runs for
// months (docs/benchmarks.md). Without rolldown (a production install without
// devDependencies) the bundle is skipped and bin/tstop-export.cjs starts bin/tstop.js.

import { bundleCliEntry } from './bundle-path.mjs';

await bundleCliEntry({
  main: 'export-main',
  dir: 'export',
  name: 'tstop-export',
  skipped: 'build-export: rolldown not installed, export not bundled (it loads its ES modules)',
});
