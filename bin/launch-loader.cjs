// Loads the launcher bundle (dist/launch/, bin/build-launcher.mjs) with V8
// code caches: the bytecode V8 compiled for a chunk in an earlier run of the
// same command, so this run neither parses nor compiles it (~5 ms of CPU per
// `tstop run`, docs/benchmarks.md "Performance (issue 14)").
//
// The caches live beside the run dir (/run/tstop.cache, where the helper keeps
// its seccomp programs): root's, 0700, files 0600. A cache is used only when
// the directory and the file belong to this user and nobody else can write
// them (it is code), and only for chunks whose name carries the content hash
// rolldown gave it; V8 itself refuses a cache of another node or V8 version
// or other flags, and the chunk then compiles as usual. (Code compiled this
// way has no import(): node 20 allows it only with --experimental-vm-modules.) A chunk without a
// usable cache gets one written at exit, after the command ran, so that it
// holds the functions this command compiled.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const HASHED_CHUNK = /-[\w-]{8}\.cjs$/;
/** The commands the bundle runs (and the only names a cache file takes from the command line). */
const LAUNCHER_COMMANDS = ['run', 'exec', 'ps', 'stop', 'rm'];

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

function readCache(file) {
  let fd = -1;
  try {
    fd = fs.openSync(path.dirname(file), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    const dirOk = trusted(fd, true);
    fs.closeSync(fd);
    fd = -1;
    if (!dirOk) return undefined;
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
    const dirFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    const ok = trusted(dirFd, true);
    fs.closeSync(dirFd);
    if (!ok) return;
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
 * Installs the loader for dist/launch/*.cjs and returns the bundle's entry
 * (null when the build made no bundle). `command` keys the caches: each
 * launcher command keeps the bytecode of what it ran.
 */
function loadLauncher(entryFile, command) {
  const dir = LAUNCHER_COMMANDS.includes(command) ? cacheDir() : null;
  const launchDir = path.dirname(entryFile) + path.sep;
  const pending = [];
  const plain = Module._extensions['.js'];
  if (dir !== null) {
    Module._extensions['.cjs'] = function loadWithCodeCache(module, filename) {
      if (!filename.startsWith(launchDir) || !HASHED_CHUNK.test(filename)) return plain(module, filename);
      const cacheFile = path.join(dir, `${path.basename(filename)}.${command}.${process.version}.v8cache`);
      const cachedData = readCache(cacheFile);
      const script = new vm.Script(Module.wrap(fs.readFileSync(filename, 'utf8')), {
        filename,
        cachedData,
      });
      if (cachedData === undefined || script.cachedDataRejected) pending.push([script, cacheFile]);
      const require = (id) => module.require(id);
      require.resolve = (request) => Module._resolveFilename(request, module);
      require.cache = Module._cache;
      script.runInThisContext().call(module.exports, module.exports, require, module, filename, path.dirname(filename));
    };
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
    return require(entryFile);
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(path.basename(entryFile))) return null;
    throw err;
  }
}

module.exports = { loadLauncher };
