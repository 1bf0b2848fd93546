// native/build/tstop-sys.node (native/sys/sys.c): the batch read, inotify and
// flock without koffi. Each call gives what the koffi fallback gives on real
// cgroup files and directories; `tstop export` and a collector (the
// dashboard's) no longer map koffi into the process; with the addon switched
// off (TSTOP_NO_SYS_ADDON=1) they load koffi and collect the same values.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, tstopBin } from '../../bench/export-process.js';
import { BATCH_MAX_FILE, readBatchThroughKoffi, type ReadBatchFn } from '../../src/cgroupfs/batch.js';
import {
  IN_CREATE,
  IN_DELETE,
  Inotify,
  inotifyCallsThroughKoffi,
  type InotifyEvent,
} from '../../src/cgroupfs/inotify.js';
import { flockThroughKoffi } from '../../src/util/flock.js';
import { sysAddon, type SysAddon } from '../../src/util/sys-addon.js';
import { TestCgroups } from '../helpers/cgroups.js';

const repo = path.resolve(path.dirname(tstopBin()), '..');
const isRoot = process.getuid?.() === 0;
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;

function addon(): SysAddon {
  const a = sysAddon();
  if (!a) throw new Error('native/build/tstop-sys.node missing or not loadable: run `node native/build.mjs`');
  return a;
}

function koffiReadBatch(): ReadBatchFn {
  const f = readBatchThroughKoffi();
  if (!f) throw new Error('koffi or native/build/libtstop-read.so missing');
  return f;
}

/** One batch read's outcome: the count done and each file's length and bytes. */
function batch(read: ReadBatchFn, fds: number[], cap: number): { done: number; files: (number | string)[] } {
  const buf = Buffer.alloc(cap);
  const offs = new Int32Array(fds.length);
  const lens = new Int32Array(fds.length);
  const done = read(Int32Array.from(fds), fds.length, buf, cap, BATCH_MAX_FILE, offs, lens);
  const files = Array.from({ length: done }, (_, i) =>
    lens[i] < 0 ? lens[i] : buf.toString('latin1', offs[i], offs[i] + lens[i]),
  );
  return { done, files };
}

/** The process's mapped files whose path contains one of the words. */
function mapped(pid: number | 'self', words: string[]): string[] {
  const paths = fs
    .readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map((l) => l.slice(l.indexOf('/')))
    .filter((p) => words.some((w) => p.includes(w)));
  return [...new Set(paths)].map((p) => path.basename(p)).sort();
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe.runIf(isRoot)('tstop-sys.node against the koffi path', { timeout: 120_000 }, () => {
  let cg: TestCgroups;
  const opened: number[] = [];
  const open = (p: string, flags = 'r'): number => {
    const fd = fs.openSync(p, flags);
    opened.push(fd);
    return fd;
  };

  beforeAll(() => {
    cg = new TestCgroups('sys');
    cg.mkdir('a');
    cg.write('memory', 'a', cg.v2 ? 'memory.max' : 'memory.limit_in_bytes', String(64 * 1024 * 1024));
  });
  afterAll(async () => {
    for (const fd of opened) fs.closeSync(fd);
    await cg.cleanup();
  });

  it('reads a batch of cgroup files, a long file, a directory and bad descriptors alike', () => {
    const memDir = cg.controllerDir('memory', 'a');
    const long = cg.tmp('long');
    fs.writeFileSync(long, 'x'.repeat(BATCH_MAX_FILE + 100));
    const closed = 1_000_000; // beyond any open descriptor
    const fds = [
      ...fs
        .readdirSync(memDir)
        .filter((f) =>
          /^(memory\.(limit_in_bytes|max|soft_limit_in_bytes|swappiness|high|low|min)|cgroup\.procs|tasks)$/.test(f),
        )
        .sort()
        .map((f) => open(path.join(memDir, f))),
      open(long),
      -1,
      closed,
      open(memDir, 'r'),
    ];
    expect(fds.length).toBeGreaterThan(5);
    const ours = batch(addon().readBatch, fds, 1024 * 1024);
    expect(ours).toEqual(batch(koffiReadBatch(), fds, 1024 * 1024));
    expect(ours.done).toBe(fds.length);
    expect(ours.files).toContain(String(64 * 1024 * 1024) + '\n');
    expect(ours.files.slice(-3)).toEqual([-9, -9, -21]); // -EBADF twice, -EISDIR
    expect((ours.files[fds.length - 4] as string).length).toBe(BATCH_MAX_FILE); // cut at maxFile
    // A buffer too small for the next file: both stop at the same file.
    const short = batch(addon().readBatch, fds, BATCH_MAX_FILE + 10);
    expect(short).toEqual(batch(koffiReadBatch(), fds, BATCH_MAX_FILE + 10));
    expect(short.done).toBeGreaterThan(0);
    expect(short.done).toBeLessThan(fds.length - 4); // before the long file
  });

  it('refuses arrays shorter than n or a cap beyond the buffer', () => {
    const fds = new Int32Array(2);
    const buf = Buffer.alloc(8);
    expect(() => addon().readBatch(fds, 3, buf, 8, 4, new Int32Array(3), new Int32Array(3))).toThrow(TypeError);
    expect(() => addon().readBatch(fds, 2, buf, 9, 4, new Int32Array(2), new Int32Array(2))).toThrow(TypeError);
    expect(() => addon().readBatch(fds, 2, buf, 8, 4, new Int32Array(1), new Int32Array(2))).toThrow(TypeError);
  });

  it('gives the same inotify events for cgroups made and removed, and the same failures', () => {
    const both = [Inotify.open()!, Inotify.open(inotifyCallsThroughKoffi())!];
    const parent = cg.controllerDir('memory');
    const watches = both.map((n) => n.watchDir(parent));
    expect(watches.every((wd) => wd > 0)).toBe(true);
    expect(both.map((n) => n.watchDir(path.join(parent, 'no-such-dir')))).toEqual([-1, -1]);
    expect(both.map((n) => n.watchDir(cg.tmp('long')))).toEqual([-1, -1]); // IN_ONLYDIR on a file
    cg.mkdir('b');
    cg.rmdir('b');
    const events = both.map((n) => {
      const got: InotifyEvent[] = [];
      n.drain((e) => got.push(e));
      return got.filter((e) => e.name === 'b');
    });
    expect(events[0]).toEqual([
      { wd: watches[0], mask: IN_CREATE | 0x40000000, name: 'b' },
      { wd: watches[0], mask: IN_DELETE | 0x40000000, name: 'b' },
    ]);
    expect(events[1]).toEqual(events[0].map((e) => ({ ...e, wd: watches[1] })));
    both.forEach((n, i) => n.unwatch(watches[i]));
    for (const n of both) n.close();
  });

  it('takes and refuses flock(2) locks like koffi, errno for errno', () => {
    const file = cg.tmp('lock');
    fs.writeFileSync(file, '');
    const viaAddon = (fd: number, op: number): number => -addon().flock(fd, op) | 0;
    const viaKoffi = flockThroughKoffi()!;
    const [a, b, c] = [open(file), open(file), open(file)];
    expect(viaAddon(a, LOCK_EX | LOCK_NB)).toBe(0);
    expect([viaAddon(b, LOCK_EX | LOCK_NB), viaKoffi(b, LOCK_EX | LOCK_NB)]).toEqual([11, 11]);
    expect([viaAddon(b, LOCK_SH | LOCK_NB), viaKoffi(c, LOCK_SH | LOCK_NB)]).toEqual([11, 11]);
    expect(viaKoffi(a, 8 /* LOCK_UN */)).toBe(0);
    expect([viaAddon(b, LOCK_SH | LOCK_NB), viaKoffi(c, LOCK_SH | LOCK_NB)]).toEqual([0, 0]);
    expect([viaAddon(a, LOCK_EX | LOCK_NB), viaKoffi(a, LOCK_EX | LOCK_NB)]).toEqual([11, 11]);
    expect([viaAddon(-1, LOCK_EX), viaKoffi(-1, LOCK_EX)]).toEqual([9, 9]); // EBADF
  });

  it('a collector (the dashboard’s) maps no koffi, and with TSTOP_NO_SYS_ADDON=1 loads it and collects the same', () => {
    const collector = path.join(repo, 'dist/src/collect/collector.js');
    if (!fs.existsSync(collector)) throw new Error('run `npm run build` first');
    const script =
      `const { Collector } = await import(${JSON.stringify(collector)});` +
      // The dashboard's collector (src/cli/dashboard-limiter.ts): inotify too.
      'const c = new Collector({ watch: true, rescanIntervalMs: 120000 }); c.collect(); const s = c.collect();' +
      `const mine = s.containers.find((x) => x.id === ${JSON.stringify(cg.id('a'))});` +
      "const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');" +
      "const libs = [...new Set(maps.split('\\n').map((l) => l.slice(l.indexOf('/')).split('/').pop()))];" +
      'process.stdout.write(JSON.stringify({ limit: mine?.memory?.limitBytes ?? null, libs: libs.filter((p) => /koffi|tstop-sys|libtstop-read/.test(p)).sort() }));';
    const run = (env: NodeJS.ProcessEnv): { limit: number | null; libs: string[] } =>
      JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          encoding: 'utf8',
          env: { ...process.env, ...env },
        }),
      ) as { limit: number | null; libs: string[] };
    const withAddon = run({});
    expect(withAddon).toEqual({ limit: 64 * 1024 * 1024, libs: ['tstop-sys.node'] });
    const fallback = run({ TSTOP_NO_SYS_ADDON: '1' });
    expect(fallback).toEqual({ limit: 64 * 1024 * 1024, libs: ['koffi.node', 'libtstop-read.so'] });
  });

  it('`tstop export` maps no koffi; with TSTOP_NO_SYS_ADDON=1 it does and serves the same limit', async () => {
    const limitLine = (text: string): string | undefined =>
      text
        .split('\n')
        .find((l) => l.startsWith('container_spec_memory_limit_bytes{') && l.includes(`id="${cg.id('a')}"`));
    for (const [env, libs] of [
      [{}, ['tstop-sys.node']],
      [{ TSTOP_NO_SYS_ADDON: '1' }, ['koffi.node', 'libtstop-read.so']],
    ] as const) {
      const exp = await startExportProcess([], { env });
      try {
        const text = await get(new URL('metrics', exp.url).href);
        expect(limitLine(text), JSON.stringify(env)).toMatch(/ 67108864$/);
        expect(mapped(exp.pid, ['koffi', 'tstop-sys', 'libtstop-read']), JSON.stringify(env)).toEqual(libs);
      } finally {
        await exp.stop();
      }
    }
  });
});
