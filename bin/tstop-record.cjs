// The entry of `tstop record`, which bin/tstop starts directly: the bundle of
// the recorder's path (dist/record/, bin/build-record.mjs), one CommonJS file,
// without node's ES module loader. Without the bundle, bin/tstop.js does it all.
'use strict';
require('./start-bundle.cjs').startBundle(
  require('node:path').join(__dirname, '../dist/record/tstop-record.cjs'),
  'recordMain',
);
