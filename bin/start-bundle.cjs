// What bin/tstop-export.cjs and bin/tstop-replay.cjs share: start a command
// from its bundle (one CommonJS file under dist/, no ES module loader), or,
// without the bundle (a production install without rolldown), from
// bin/tstop.js, which does it all.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');

/** Runs bundle[mainName](argv) from the bundle at bundlePath, else bin/tstop.js. */
exports.startBundle = function startBundle(bundlePath, mainName) {
  let bundle = null;
  try {
    bundle = require(bundlePath);
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes(path.basename(bundlePath))) throw err;
  }
  const start = bundle
    ? bundle[mainName](process.argv.slice(2))
    : import(pathToFileURL(path.join(__dirname, 'tstop.js')).href);
  start.catch((err) => {
    process.nextTick(() => {
      throw err;
    });
  });
};
