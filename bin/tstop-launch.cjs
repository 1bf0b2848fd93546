// The launcher commands' entry (run, exec, ps, stop, rm), which bin/tstop
// starts directly: a CommonJS main spares node its ES module loader, and the
// bundle (dist/launch/, bin/build-launcher.mjs) is CommonJS too, loaded with
// V8 code caches (bin/launch-loader.cjs); ~6 ms less per `tstop run` than
// starting from bin/tstop.js (docs/benchmarks.md, "Performance (issue 14)").
// Without the bundle, bin/tstop.js does it all.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { loadLauncher } = require('./launch-loader.cjs');

const argv = process.argv.slice(2);
const launcher = loadLauncher(path.join(__dirname, '../dist/launch/tstop-launch.cjs'), argv[0]);
const start = launcher
  ? launcher.launcherMain(
      argv,
      (args) => import(pathToFileURL(path.join(__dirname, '../dist/src/cli/main.js')).href).then((m) => m.main(args)),
      { processIsTheCli: true },
    )
  : import(pathToFileURL(path.join(__dirname, 'tstop.js')).href);
start.catch((err) => {
  process.nextTick(() => {
    throw err;
  });
});
