// The launcher's commands start from a CommonJS bundle (dist/launch/, bin/build-launcher.mjs):
// bin/tstop starts them from bin/tstop-launch.cjs, without node's ES module loader;
// the rest of the CLI from dist/src/cli/main.js. The launcher's integration suite
// runs through bin/tstop.js, which loads the same bundle.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAUNCHER_COMMANDS } from '../../src/cli/launch-main.js';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/tstop.js');
const launchEntry = path.join(root, 'bin/tstop-launch.cjs');
const logLoads = path.join(root, 'test/fixtures/loader/log-loads.mjs');
const logRequires = path.join(root, 'test/fixtures/loader/log-requires.cjs');
const bundleDir = path.join(root, 'dist/launch');
// A run dir of this test's own: the launcher writes its code caches beside it (<run dir>.cache).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-test-launch-entry-'));
const env = { ...process.env, TSTOP_RUN_DIR: path.join(tmp, 'run') };
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * The files node loads (relative to the package): ES modules (`modules`) and
 * CommonJS files (`required`), and the exit status of `node ENTRY ...args`.
 */
function loads(
  args: string[],
  entry = bin,
): { modules: string[]; required: string[]; files: string[]; status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', logLoads, '--require', logRequires, entry, ...args], {
    env,
    encoding: 'utf8',
  });
  const modules = [...r.stderr.matchAll(/^loaded file:\/\/(\S+)$/gm)].map((m) => path.relative(root, m[1]));
  const required = [...r.stderr.matchAll(/^required (\S+)$/gm)]
    .map((m) => path.relative(root, m[1]))
    .filter((f) => !f.startsWith('test/fixtures/'));
  return { modules, required, files: [...modules, ...required], status: r.status, stdout: r.stdout };
}

/** The chunks a bundle file requires at load (not the ones it requires on demand). */
function staticRequires(file: string): string[] {
  const text = fs.readFileSync(path.join(bundleDir, file), 'utf8');
  return [...text.matchAll(/^const \w+ = require\("\.\/([^"]+)"\);$/gm)].map((m) => m[1]);
}

describe('launcher entry', () => {
  it('names the same commands as bin/tstop and bin/tstop.js send to it', () => {
    const names = LAUNCHER_COMMANDS.map((c) => c.name).sort();
    expect(names).toEqual(['exec', 'ps', 'rm', 'run', 'stop']);
    const sh = fs.readFileSync(path.join(root, 'bin/tstop'), 'utf8');
    expect(sh).toContain('run | exec | ps | stop | rm)');
    expect(fs.readFileSync(bin, 'utf8')).toContain("['run', 'exec', 'ps', 'stop', 'rm']");
  });

  it('bin/tstop starts the launcher commands from the CommonJS entry: no ES module, no file of dist/src', () => {
    const sh = fs.readFileSync(path.join(root, 'bin/tstop'), 'utf8');
    expect(sh).toMatch(
      /run \| exec \| ps \| stop \| rm\)\n(?: +#.*\n| +unset NODE_EXTRA_CA_CERTS\n)* +exec node -- "\$\{self%\/\*\}\/tstop-launch\.cjs" "\$@" ;;/,
    );
    const { modules, required, status, stdout } = loads(['run', '--help'], launchEntry);
    expect(status).toBe(0);
    expect(stdout).toContain('Usage: tstop run');
    // (the logging hook itself runs the main file through the ES loader; nothing of dist/ is an ES module here)
    expect(modules.filter((f) => f.startsWith('dist/'))).toEqual([]);
    expect(required).toContain('dist/launch/tstop-launch.cjs');
    expect(required.filter((f) => f.startsWith('dist/src/'))).toEqual([]);
  });

  it('a plain run loads the entry and the run chunk only; limits, networks, images, exec and ps load on demand', () => {
    const entryChunks = staticRequires('tstop-launch.cjs');
    expect(entryChunks).toHaveLength(1);
    const [runChunk] = entryChunks;
    expect(runChunk).toMatch(/^tstop-launch-run-[\w-]+\.cjs$/);
    // rolldown's own helpers (a few hundred bytes) are the only other chunk it needs at load.
    expect(staticRequires(runChunk).every((f) => f.startsWith('rolldown-runtime-'))).toBe(true);
    const text = fs.readFileSync(path.join(bundleDir, runChunk), 'utf8');
    expect(text).toContain('function runContainer(');
    expect(text).not.toContain('function applyLimits(');
    expect(text).not.toContain('function prepareNetwork(req');
  });

  it('the entry loads the chunks itself: no loader module, the entry chunk, the run chunk and its helpers only', () => {
    // (without --import: node's ES module hooks would load builtins of their own)
    const r = spawnSync(process.execPath, ['--require', logRequires, launchEntry, 'run', '--help'], {
      env,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const required = [...r.stderr.matchAll(/^required (\S+)$/gm)]
      .map((m) => path.relative(root, m[1]))
      .filter((f) => !f.startsWith('test/fixtures/'));
    const [runChunk] = staticRequires('tstop-launch.cjs');
    expect(required.sort()).toEqual(
      ['bin/tstop-launch.cjs', 'dist/launch/tstop-launch.cjs', `dist/launch/${runChunk}`]
        .concat(staticRequires(runChunk).map((f) => `dist/launch/${f}`))
        .sort(),
    );
    // The bundle's builtins load at their first use: node:os (whose first require builds its
    // ES module facade) is not needed to print the help, nor by a plain run (seccomp.ts).
    const builtins = [...r.stderr.matchAll(/^builtin (\S+)$/gm)].map((m) => m[1]);
    expect(builtins).toContain('fs');
    expect(builtins).not.toContain('os');
  });

  it('tstop run through bin/tstop.js loads the same bundle and no module of dist/src', () => {
    const { files, status, stdout } = loads(['run', '--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('Usage: tstop run');
    expect(files).toContain('dist/launch/tstop-launch.cjs');
    expect(files.filter((f) => f.startsWith('dist/src/'))).toEqual([]);
  });

  it('other commands, help and typos go through the CLI entry', () => {
    const snapshot = loads(['snapshot', '--help']);
    expect(snapshot.status).toBe(0);
    expect(snapshot.files).toContain('dist/src/cli/main.js');
    expect(snapshot.files).not.toContain('dist/launch/tstop-launch.cjs');
    const version = execFileSync(process.execPath, [bin, '--version'], { env, encoding: 'utf8' });
    expect(version).toMatch(/^tstop \d/);
  });

  it('a usage error in a launcher command exits 2 with the same message as before', () => {
    for (const entry of [bin, launchEntry]) {
      const r = spawnSync(process.execPath, [entry, 'run', '--no-such-flag', 'x'], { env, encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("tstop: run: Unknown option '--no-such-flag'");
    }
  });

  it('help and typos given to the CommonJS entry go to the CLI entry', () => {
    const r = spawnSync(process.execPath, [launchEntry, '--version'], { env, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^tstop \d/);
  });
});
