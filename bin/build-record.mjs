// Bundles the entry of `tstop record` (dist/src/cli/record-main.js, compiled
// by tsc) into CommonJS files under dist/record/, which bin/tstop-record.cjs
// loads: tstop-record.cjs holds the recorder's static path, and what it
// imports only on demand (--guard, the limiter for a due expiry) goes to
// chunks loaded then (bin/bundle-path.mjs). Without its ES module loader node
// starts the recorder with less CPU (docs/record.md). Without rolldown (a
// production install without devDependencies) the bundle is skipped and
// bin/tstop-record.cjs starts bin/tstop.js.

import { bundleCliEntry } from './bundle-path.mjs';

await bundleCliEntry({
  main: 'record-main',
  dir: 'record',
  name: 'tstop-record',
  skipped: 'build-record: rolldown not installed, record not bundled (it loads its ES modules)',
});
