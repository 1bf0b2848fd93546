// The entry of `tstop snapshot` on a recorded store, which bin/tstop starts
// directly: the bundle of that path (dist/replay/, bin/build-replay.mjs), one
// CommonJS file, without node's ES module loader. Without the bundle,
// bin/tstop.js does it all.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');

let replay = null;
try {
  replay = require('../dist/replay/tstop-replay.cjs');
} catch (err) {
  if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes('tstop-replay.cjs')) throw err;
}
const start = replay
  ? replay.replayMain(process.argv.slice(2))
  : import(pathToFileURL(path.join(__dirname, 'tstop.js')).href);
start.catch((err) => {
  process.nextTick(() => {
    throw err;
  });
});
