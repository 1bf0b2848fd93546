// bin/tstop-launch.cjs (its loader): the launcher bundle's chunks load with V8 code caches
// kept beside the run dir. A valid cache of root's is used as it is (not
// rewritten); one anybody else could have written, a symlink, or bytes V8
// refuses are not used: the chunk compiles from source and a fresh cache
// replaces the file. Runs `tstop ps` (no cgroups, no containers) as root.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const entry = path.join(root, 'bin/tstop-launch.cjs');
const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot || !fs.existsSync(path.join(root, 'dist/launch/tstop-launch.cjs')))(
  'launcher code caches',
  () => {
    let tmp: string;
    let n = 0;
    const fresh = (): { runDir: string; cache: string } => {
      const runDir = path.join(tmp, `run${n++}`);
      return { runDir, cache: `${runDir}.cache` };
    };
    const ps = (runDir: string): void => {
      const r = spawnSync(process.execPath, [entry, 'ps'], {
        env: { ...process.env, TSTOP_RUN_DIR: runDir },
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^NAME +PID +STATUS/);
      expect(r.status).toBe(0);
    };
    /** The cache of the chunk that holds the launcher's run path. */
    const runChunkCache = (cache: string): string => {
      const f = fs.readdirSync(cache).find((x) => x.startsWith('tstop-launch-run-') && x.includes('.ps.'));
      if (!f) throw new Error(`no cache of the run chunk in ${cache}: ${fs.readdirSync(cache).join(' ')}`);
      return path.join(cache, f);
    };

    beforeAll(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-test-launch-loader-'));
    });
    afterAll(() => {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it('writes one cache per hashed chunk and command, root only, and uses it untouched next time', () => {
      const { runDir, cache } = fresh();
      ps(runDir);
      expect(fs.statSync(cache).mode & 0o777).toBe(0o700);
      const files = fs.readdirSync(cache);
      expect(files.every((f) => /-[\w-]{8}\.cjs\.ps\.v\d+\.\d+\.\d+\.v8cache$/.test(f))).toBe(true);
      expect(files.some((f) => f.startsWith('tstop-launch.cjs'))).toBe(false); // the entry's name has no content hash
      const file = runChunkCache(cache);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const before = fs.statSync(file);
      ps(runDir);
      const after = fs.statSync(file);
      expect(after.ino).toBe(before.ino); // accepted by V8, so not written again
      expect(after.mtimeMs).toBe(before.mtimeMs);
    });

    it("writing a chunk's cache removes this command's caches of other builds of it, and only those", () => {
      const { runDir, cache } = fresh();
      fs.mkdirSync(cache, { mode: 0o700 });
      const stale = [
        'tstop-launch-run-OldHash1.cjs.ps.v20.0.0.v8cache',
        'tstop-launch-run-OldHash2.cjs.ps.v18.1.0.v8cache',
      ];
      const kept = [
        'tstop-launch-run-OldHash1.cjs.run.v20.0.0.v8cache',
        'other-chunk-OldHash1.cjs.ps.v20.0.0.v8cache',
        'x.bpf',
      ];
      for (const f of [...stale, ...kept]) fs.writeFileSync(path.join(cache, f), 'x', { mode: 0o600 });
      ps(runDir);
      const files = fs.readdirSync(cache);
      for (const f of stale) expect(files, f).not.toContain(f);
      for (const f of kept) expect(files, f).toContain(f);
      expect(runChunkCache(cache)).toMatch(/\.ps\.v\d/);
    });

    it('a cache V8 refuses is replaced, and the command still works', () => {
      const { runDir, cache } = fresh();
      ps(runDir);
      const file = runChunkCache(cache);
      fs.writeFileSync(file, Buffer.alloc(4096, 7), { mode: 0o600 });
      const ino = fs.statSync(file).ino;
      ps(runDir);
      expect(fs.statSync(file).ino).not.toBe(ino);
      expect(fs.readFileSync(file).equals(Buffer.alloc(4096, 7))).toBe(false);
    });

    it('a cache anybody else could have written is not loaded: group-writable file, foreign owner, open dir, symlink', () => {
      for (const tamper of ['group-writable', 'owner', 'dir', 'symlink'] as const) {
        const { runDir, cache } = fresh();
        ps(runDir);
        const file = runChunkCache(cache);
        const ino = fs.statSync(file).ino;
        const elsewhere = path.join(tmp, `elsewhere-${tamper}`);
        if (tamper === 'group-writable') fs.chmodSync(file, 0o620);
        if (tamper === 'owner') fs.chownSync(file, 65534, 65534);
        if (tamper === 'dir') fs.chmodSync(cache, 0o777);
        if (tamper === 'symlink') {
          fs.renameSync(file, elsewhere);
          fs.symlinkSync(elsewhere, file);
        }
        ps(runDir);
        if (tamper === 'dir') {
          // Not read, and nothing written into a directory others can write.
          expect(fs.statSync(file).ino, tamper).toBe(ino);
          continue;
        }
        const st = fs.lstatSync(file);
        expect(st.isFile(), tamper).toBe(true);
        expect(st.ino, tamper).not.toBe(ino); // compiled from source, a fresh cache renamed over it
        expect(st.uid, tamper).toBe(0);
        expect(st.mode & 0o777, tamper).toBe(0o600);
        if (tamper === 'symlink') expect(fs.lstatSync(elsewhere).isFile()).toBe(true);
      }
    });
  },
);
