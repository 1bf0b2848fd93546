// The launcher's commands start from one bundled file (dist/launch/tstop-launch.js,
// bin/build-launcher.mjs); the rest of the CLI from dist/src/cli/main.js.
// The launcher's integration suite runs through bin/tstop.js, hence through the bundle.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAUNCHER_COMMANDS } from '../../src/cli/launch-main.js';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin/tstop.js');
const logLoads = path.join(root, 'test/fixtures/loader/log-loads.mjs');

/** The files node loads (relative to the package) and the exit status of `node bin/tstop.js ...args`. */
function loads(args: string[]): { files: string[]; status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', logLoads, bin, ...args], { encoding: 'utf8' });
  const files = [...r.stderr.matchAll(/^loaded file:\/\/(\S+)$/gm)].map((m) => path.relative(root, m[1]));
  return { files, status: r.status, stdout: r.stdout };
}

describe('launcher entry', () => {
  it('names the same commands as bin/tstop and bin/tstop.js send to it', () => {
    const names = LAUNCHER_COMMANDS.map((c) => c.name).sort();
    expect(names).toEqual(['exec', 'ps', 'rm', 'run', 'stop']);
    const sh = fs.readFileSync(path.join(root, 'bin/tstop'), 'utf8');
    expect(sh).toContain('run | exec | ps | stop | rm)');
    expect(fs.readFileSync(bin, 'utf8')).toContain("['run', 'exec', 'ps', 'stop', 'rm']");
  });

  it('tstop run loads the bundle and no module of dist/src', () => {
    expect(fs.existsSync(path.join(root, 'dist/launch/tstop-launch.js'))).toBe(true);
    const { files, status, stdout } = loads(['run', '--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('Usage: tstop run');
    expect(files).toContain('dist/launch/tstop-launch.js');
    expect(files.filter((f) => f.startsWith('dist/src/'))).toEqual([]);
  });

  it('other commands, help and typos go through the CLI entry', () => {
    const snapshot = loads(['snapshot', '--help']);
    expect(snapshot.status).toBe(0);
    expect(snapshot.files).toContain('dist/src/cli/main.js');
    expect(snapshot.files).not.toContain('dist/launch/tstop-launch.js');
    const version = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(version).toMatch(/^tstop \d/);
  });

  it('a usage error in a launcher command exits 2 with the same message as before', () => {
    const r = spawnSync(process.execPath, [bin, 'run', '--no-such-flag', 'x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("tstop: run: Unknown option '--no-such-flag'");
  });
});
