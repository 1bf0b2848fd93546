#!/usr/bin/env node
// Builds native/build/tstop-helper from native/src/*.c, and the collector's
// batch reader native/build/libtstop-read.so from native/read/, and two N-API
// addons (native/exec/, native/sys/), with the machine's C compiler. Run by `npm install` / `npm ci` (package.json "install") and by
// `npm run build:native`. No prebuilt binaries, no node-gyp.
//
//   CC=clang node native/build.mjs     choose the compiler
//   TSTOP_SKIP_NATIVE=1                skip (tstop run/exec then unavailable)
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcDir = join(here, 'src');
const outDir = join(here, 'build');
const out = join(outDir, 'tstop-helper');
const readLib = join(outDir, 'libtstop-read.so');
const readSource = join(here, 'read', 'readbatch.c');
const execAddon = join(outDir, 'tstop-exec.node');
const execSource = join(here, 'exec', 'exec.c');
const sysAddon = join(outDir, 'tstop-sys.node');
const sysSource = join(here, 'sys', 'sys.c');
// node_api.h of the node that builds it (Debian's nodejs: /usr/include/node; nodejs.org builds: <prefix>/include/node).
const nodeInclude = join(dirname(process.execPath), '..', 'include', 'node');

function findOnPath(name) {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isReadable(path) {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function main() {
  if (process.env.TSTOP_SKIP_NATIVE === '1') {
    console.log('tstop: TSTOP_SKIP_NATIVE=1, not building native/build/tstop-helper');
    return 0;
  }
  if (process.platform !== 'linux') {
    console.log(`tstop: the native helper is Linux-only; skipping on ${process.platform}`);
    return 0;
  }
  const candidates = process.env.CC ? [process.env.CC] : ['cc', 'gcc', 'clang'];
  const cc = candidates.map(findOnPath).find((p) => p !== null);
  if (!cc) {
    console.error(
      `tstop: no C compiler found (tried ${candidates.join(', ')}); ` +
        'install one (e.g. apt-get install gcc) to build native/build/tstop-helper, ' +
        'or set TSTOP_SKIP_NATIVE=1 to install without `tstop run`/`tstop exec`.',
    );
    return 1;
  }
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(srcDir, f));
  mkdirSync(outDir, { recursive: true });
  // -lseccomp: libseccomp (Debian libseccomp-dev) builds the seccomp filter (native/src/seccomp.c).
  const args = ['-std=c11', '-O2', '-Wall', '-Wextra', '-o', out, ...sources, '-lseccomp'];
  const r = spawnSync(cc, args, { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(
      `tstop: building native/build/tstop-helper with ${cc} failed ` +
        '(it needs libc headers and libseccomp: apt-get install gcc libc6-dev libseccomp-dev)',
    );
    return 1;
  }
  // Without it the collector reads file by file: slower, not broken.
  const lib = spawnSync(cc, ['-std=c11', '-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-o', readLib, readSource], {
    stdio: 'inherit',
  });
  if (lib.error || lib.status !== 0) console.error(`tstop: building ${readLib} failed; collection reads file by file`);
  // Without it `tstop run` spawns the helper and waits for it instead of exec'ing it: slower, not broken.
  const haveNodeApi = isReadable(join(nodeInclude, 'node_api.h'));
  const buildAddon = (out, sources) => {
    rmSync(out, { force: true }); // never a stale one from another node
    if (!haveNodeApi) return { status: 1 };
    return spawnSync(cc, ['-std=c11', '-O2', '-Wall', '-Wextra', '-shared', '-fPIC', `-I${nodeInclude}`, '-o', out, ...sources], {
      stdio: 'inherit',
    });
  };
  const addon = buildAddon(execAddon, [execSource]);
  if (addon.error || addon.status !== 0) console.error(`tstop: not building ${execAddon} (no ${nodeInclude}/node_api.h or the compiler failed); tstop run spawns its helper`);
  // Without it the collection and the recorder load koffi for the same calls: ~6 MB more RSS, same results.
  const sys = buildAddon(sysAddon, [sysSource, readSource]);
  if (sys.error || sys.status !== 0) console.error(`tstop: not building ${sysAddon} (no ${nodeInclude}/node_api.h or the compiler failed); the collection uses koffi`);
  return 0;
}

process.exitCode = main();
