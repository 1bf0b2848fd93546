#!/usr/bin/env node
// Started by bin/tstop (package.json "bin"), which picks node's flags per
// command: a 4 MB young generation for the collecting ones, none for the
// launcher's (tstop run must start fast).
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import('../dist/src/cli/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/')) {
      process.stderr.write('tstop: not built yet; run `npm ci` (or `npm run build`) in the tstop directory\n');
      process.exit(1);
    }
    throw err;
  });
