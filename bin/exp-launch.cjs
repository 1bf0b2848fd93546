'use strict';
const path = require('node:path');
const fs = require('node:fs');
const vm = require('node:vm');
const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const CC = '/tmp/i14l/cc';
const scripts = [];
const orig = Module._extensions['.cjs'] ?? Module._extensions['.js'];
Module._extensions['.cjs'] = function (module, filename) {
  if (!filename.includes('/dist/launch/')) return orig(module, filename);
  const src = fs.readFileSync(filename, 'utf8');
  const ccFile = path.join(CC, path.basename(filename) + '.cache');
  let cachedData;
  try { cachedData = fs.readFileSync(ccFile); } catch {}
  const wrapper = Module.wrap(src);
  const script = new vm.Script(wrapper, { filename, cachedData });
  if (!cachedData || script.cachedDataRejected) scripts.push([script, ccFile]);
  const fn = script.runInThisContext();
  const req = (id) => module.require(id);
  req.resolve = (r) => Module._resolveFilename(r, module);
  fn.call(module.exports, module.exports, req, module, filename, path.dirname(filename));
};
process.on('exit', () => { for (const [s, f] of scripts) { fs.mkdirSync(CC, { recursive: true }); fs.writeFileSync(f, s.createCachedData()); } });
const launcher = require('../dist/launch/tstop-launch.cjs');
launcher.launcherMain(process.argv.slice(2), pathToFileURL(path.join(__dirname, '../dist/src/cli/main.js'))).catch((err) => process.nextTick(() => { throw err; }));
