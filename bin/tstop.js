#!/usr/bin/env node
// Started by bin/tstop (package.json "bin"), which picks node's flags per
// command: a 4 MB young generation for the collecting ones, none for the
// launcher's (tstop run must start fast).
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
// The launcher's commands start from dist/launch/tstop-launch.cjs, bundled by
// bin/build-launcher.mjs, when the build made it: loading one file instead of
// ~30 ES modules is most of what a launch costs above Node's own start
// (bin/tstop itself starts them from bin/tstop-launch.cjs, without this file).
import { createRequire } from 'node:module';

const argv = process.argv.slice(2);
const mainUrl = new URL('../dist/src/cli/main.js', import.meta.url);
const LAUNCHER_COMMANDS = ['run', 'exec', 'ps', 'stop', 'rm'];

function notBuilt(err) {
  return err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('/dist/');
}

/** dist/launch/tstop-launch.cjs (with its code caches, ./tstop-launch.cjs), or null when the build made no bundle. */
function launcherBundle() {
  const require = createRequire(import.meta.url);
  return require('./tstop-launch.cjs').loadLauncher(require.resolve('../dist/launch/tstop-launch.cjs'), argv[0]);
}

const launcher = LAUNCHER_COMMANDS.includes(argv[0]) ? launcherBundle() : null;
const cli = (args) => import(mainUrl.href).then((m) => m.main(args));
const start = launcher ? launcher.launcherMain(argv, cli, { processIsTheCli: true }) : cli(argv); // other commands, or built without the bundle
start.catch((err) => {
  if (notBuilt(err)) {
    process.stderr.write('tstop: not built yet; run `npm ci` (or `npm run build`) in the tstop directory\n');
    process.exit(1);
  }
  throw err;
});
