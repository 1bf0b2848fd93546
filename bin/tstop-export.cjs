// The entry of `tstop export`, which bin/tstop starts directly: the bundle of
// the exporter's path (dist/export/, bin/build-export.mjs), one CommonJS file,
// without node's ES module loader. Without the bundle, bin/tstop.js does it all.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');

let exporter = null;
try {
  exporter = require('../dist/export/tstop-export.cjs');
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('tstop-export.cjs')) throw err;
}
const start = exporter
  ? exporter.exportMain(process.argv.slice(2))
  : import(pathToFileURL(path.join(__dirname, 'tstop.js')).href);
start.catch((err) => {
  process.nextTick(() => {
    throw err;
  });
});
