// The launcher commands' entry (run, exec, ps, stop, rm), which bin/tstop
// starts directly: a CommonJS main spares node its ES module loader, and the
// bundle (dist/launch/, bin/build-launcher.mjs) is CommonJS too, loaded here
// with V8 code caches. Without the bundle, bin/tstop.js does it all.
// bin/tstop.js loads the bundle through this file's loadLauncher too.
//
// Code caches: the bytecode V8 compiled for a chunk in an earlier run of the
// same command, so this run neither parses nor compiles it (~5 ms of CPU per
// `tstop run`, docs/benchmarks.md "Performance (issue 14)"). They live beside
// the run dir (/run/tstop.cache, where the helper keeps its seccomp programs):
// root's, 0700, files 0600. A cache is used only when the directory and the
// file belong to this user and nobody else can write them (it is code), and
// only for chunks whose name carries the content hash rolldown gave it (V8
// itself checks only the source's length); V8 refuses a cache of another node
// or V8 version or other flags, and the chunk then compiles as usual. (Code
// compiled this way has no import(): node 20 allows it only with
// --experimental-vm-modules.) A chunk without a usable cache gets one written
// at exit, after the command ran, so that it holds the functions this command
// compiled.
//
// The loader is here, not in a module of its own, and loads the chunks itself
// (vm.Script, no require() resolution): a first require() of a file costs
// ~0.4 ms of CPU, each further one ~0.17 ms (measured on node 20).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
// require('node:module') would build the builtin's ES module facade (~0.2 ms): a module's constructor is Module.
const Module = module.constructor;

const HASHED_CHUNK = /-[\w-]{8}\.cjs$/;
/** The commands the bundle runs (and the only names a cache file takes from the command line). */
const LAUNCHER_COMMANDS = ['run', 'exec', 'ps', 'stop', 'rm'];
/** Below this many characters a chunk compiles in less time than reading a cache takes. */
const SMALL_CHUNK_CHARS = 4096;

function cacheDir() {
  const runDir = process.env.TSTOP_RUN_DIR || '/run/tstop';
  if (!path.isAbsolute(runDir) || process.getuid?.() !== 0) return null;
  return `${path.normalize(runDir)}.cache`;
}

/** This user's own file or dir, writable by nobody else, not through a symlink. */
function trusted(fd, isDir) {
  const st = fs.fstatSync(fd);
  return (isDir ? st.isDirectory() : st.isFile()) && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** The cache dir when it is trusted (checked once per process), else null. */
function trustedDir(dir) {
  let fd = -1;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    return trusted(fd, true);
  } catch {
    return false; // no cache yet
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** A cache file of a trusted dir, or undefined. */
function readCache(file) {
  let fd = -1;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return trusted(fd, false) ? fs.readFileSync(fd) : undefined;
  } catch {
    return undefined; // no cache yet
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

function writeCache(file, data) {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (err.code !== 'EEXIST') return;
  }
  try {
    if (!trustedDir(dir)) return;
    fs.writeFileSync(tmp, data, {
      mode: 0o600,
      flag: fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    });
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true }); // a cache is never worth failing a command for
  }
}

/** A chunk's cache file name: chunk base name, its content hash, the command, node's version. */
const CACHE_NAME = /^(.+)-[\w-]{8}\.cjs\.([a-z]+)\.(v[\d.]+)\.v8cache$/;

/** Removes this command's caches of other builds of the chunks just written (a new bundle or node). */
function pruneCaches(dir, command, written) {
  try {
    const bases = new Set([...written].map((f) => CACHE_NAME.exec(f)?.[1]));
    for (const f of fs.readdirSync(dir)) {
      const m = CACHE_NAME.exec(f);
      if (m && m[2] === command && bases.has(m[1]) && !written.has(f)) fs.rmSync(path.join(dir, f), { force: true });
    }
  } catch {
    // pruning is housekeeping
  }
}

/**
 * Loads the bundle's entry (dist/launch/tstop-launch.cjs) and, as they are
 * required, its chunks; returns the entry's exports, or null when the build
 * made no bundle. `command` keys the caches: each launcher command keeps the
 * bytecode of what it ran. A chunk's requests of "./x.cjs" are its sibling
 * chunks; anything else (builtins, packages) goes to node's require.
 */
function loadLauncher(entryFile, command) {
  const dir = LAUNCHER_COMMANDS.includes(command) ? cacheDir() : null;
  const readable = dir !== null && trustedDir(dir);
  const launchDir = path.dirname(entryFile);
  const paths = Module._nodeModulePaths(launchDir);
  const pending = [];

  function loadChunk(filename, parent) {
    const loaded = Module._cache[filename];
    if (loaded) return loaded.exports;
    const source = fs.readFileSync(filename, 'utf8');
    const cacheFile =
      dir !== null && source.length >= SMALL_CHUNK_CHARS && HASHED_CHUNK.test(filename)
        ? path.join(dir, `${path.basename(filename)}.${command}.${process.version}.v8cache`)
        : null;
    const cachedData = cacheFile !== null && readable ? readCache(cacheFile) : undefined;
    const script = new vm.Script(Module.wrap(source), { filename, cachedData });
    if (cacheFile !== null && (cachedData === undefined || script.cachedDataRejected))
      pending.push([script, cacheFile]);
    const chunk = new Module(filename, parent);
    chunk.filename = filename;
    chunk.paths = paths;
    const require = (id) => (id.startsWith('./') ? loadChunk(path.join(launchDir, id), chunk) : chunk.require(id));
    require.resolve = (request) => Module._resolveFilename(request, chunk);
    require.cache = Module._cache;
    Module._cache[filename] = chunk;
    try {
      script.runInThisContext().call(chunk.exports, chunk.exports, require, chunk, filename, launchDir);
    } catch (err) {
      delete Module._cache[filename];
      throw err;
    }
    chunk.loaded = true;
    return chunk.exports;
  }

  if (dir !== null) {
    const writeCaches = () => {
      const written = pending.splice(0);
      for (const [script, file] of written) writeCache(file, script.createCachedData());
      if (written.length > 0) pruneCaches(dir, command, new Set(written.map(([, file]) => path.basename(file))));
    };
    process.once('exit', writeCaches);
    // A foreground `tstop run` execs its helper (src/launcher/exec-in-place.ts): no exit event.
    process.once('tstop-before-exec', writeCaches);
  }
  try {
    return loadChunk(entryFile, module);
  } catch (err) {
    if (err.code === 'ENOENT' && err.path === entryFile) return null; // not bundled
    throw err;
  }
}

module.exports = { loadLauncher };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const launcher = loadLauncher(path.join(__dirname, '../dist/launch/tstop-launch.cjs'), argv[0]);
  // The rest of the CLI, and the whole of it when the build made no bundle: ES modules.
  const importFile = (file) => import(require('node:url').pathToFileURL(path.join(__dirname, file)).href);
  const start = launcher
    ? launcher.launcherMain(argv, (args) => importFile('../dist/src/cli/main.js').then((m) => m.main(args)), {
        processIsTheCli: true,
      })
    : importFile('tstop.js');
  start.catch((err) => {
    process.nextTick(() => {
      throw err;
    });
  });
}
