// The entry of `tstop export`, which bin/tstop starts directly: the bundle of
// the exporter's path (dist/export/, bin/build-export.mjs), one CommonJS file,
// without node's ES module loader. Without the bundle, bin/tstop.js does it all.
'use strict';
require('./start-bundle.cjs').startBundle(
  require('node:path').join(__dirname, '../dist/export/tstop-export.cjs'),
  'exportMain',
);
