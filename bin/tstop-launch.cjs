// The launcher commands' entry (run, exec, ps, stop, rm), which bin/tstop
// starts directly: a CommonJS main spares node its ES module loader, and the
// bundle (dist/launch/, bin/build-launcher.mjs) is CommonJS too; ~6 ms less
// per `tstop run` than starting from bin/tstop.js (docs/benchmarks.md,
// "Performance (issue 14)"). Without the bundle, bin/tstop.js does it all.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');

let launcher = null;
try {
  launcher = require('../dist/launch/tstop-launch.cjs');
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('tstop-launch.cjs')) throw err;
}
const start = launcher
  ? launcher.launcherMain(process.argv.slice(2), pathToFileURL(path.join(__dirname, '../dist/src/cli/main.js')))
  : import(pathToFileURL(path.join(__dirname, 'tstop.js')).href);
start.catch((err) => {
  process.nextTick(() => {
    throw err;
  });
});
