// The entry of `tstop snapshot` on a recorded store, which bin/tstop starts
// directly: the bundle of that path (dist/replay/, bin/build-replay.mjs), one
// CommonJS file, without node's ES module loader. Without the bundle,
// bin/tstop.js does it all.
'use strict';
require('./start-bundle.cjs').startBundle(
  require('node:path').join(__dirname, '../dist/replay/tstop-replay.cjs'),
  'replayMain',
);
