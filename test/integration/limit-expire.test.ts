// Limits that expire (`tstop limit C ... --for D`) on the real kernel: a
// real tstop container (tstop run -d, busybox rootfs) gets its memory limit
// back at the deadline from the detached reverter alone; a reverter killed
// with kill -9 is replaced by the next `tstop record`; a `tstop export` started
// with nothing pending (its limiter not loaded) reverts one made while it runs; a value someone else
// wrote since is left alone (a skip with the value found); `limit expiries`,
// `limit keep`, an undo before the deadline; bad --for values change nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { processStart } from '../../src/limiter/audit.js';
import { ExpiryLock } from '../../src/limiter/expiry.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { hashLimitFiles, killReverter, limitEnv, runTstop, TSTOP_BIN } from '../helpers/limit.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number): boolean => processStart(pid) !== null;

describe.runIf(isRoot)('limits that expire (--for)', () => {
  let cg: TestCgroups;
  let audit: string;
  let env: NodeJS.ProcessEnv;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let parent: string;
  const children: ChildProcess[] = [];

  const tstop = (...args: string[]) => runTstop(args, env);
  /** Who holds the expiry lock now (probed with flock: null when nobody). */
  const runner = () => new ExpiryLock(audit).holder();
  const records = (): ChangeRecord[] =>
    fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ChangeRecord);
  const memoryFile = (rel: string): string =>
    path.join(cg.controllerDir('memory', rel), cg.v2 ? 'memory.max' : 'memory.limit_in_bytes');
  const memoryOf = (rel: string): string => fs.readFileSync(memoryFile(rel), 'utf8').trim();

  /** A test cgroup with a process, and a --for change to its memory limit. */
  async function limitFor(rel: string, memory: string, forText: string) {
    cg.mkdir(rel);
    await cg.spawn(rel, ['sleep']).ready;
    const id = cg.id(rel);
    const before = memoryOf(rel);
    const r = await tstop('limit', id, '--memory', memory, '--for', forText, '--allow-system', '--yes', '--json');
    expect(r.code).toBe(0);
    const { changeId, expiresAt } = JSON.parse(r.stdout) as { changeId: string; expiresAt: string };
    return { id, before, changeId, expiresAt };
  }

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('expire');
    audit = cg.tmp('audit.jsonl');
    parent = `${cg.id()}/tstop`;
    env = limitEnv(cg, audit, { TSTOP_RUN_DIR: cg.tmp('run'), TSTOP_RUN_PARENT: parent });
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    rootfs = makeBusyboxRootfs(busybox);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    killReverter(audit);
    await runTstop(['rm', '-f', 'exp-web'], env);
    if (cg) await cg.cleanupProcesses('');
    await cg?.cleanup();
    rootfs?.cleanup();
  });

  it('a --for 6s memory limit on a real tstop container comes back within 2 s of its deadline with no other tstop running; history shows the revert', async () => {
    const started = await tstop('run', '-d', '--name', 'exp-web', '--rootfs', rootfs.rootfs, '--', 'sleep', '300');
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const rel = 'tstop/exp-web';
    const id = `${parent}/exp-web`;
    const before = memoryOf(rel);
    const r = await tstop('limit', id, '--memory', '100m', '--for', '6s', '--allow-system', '--yes', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { changeId: string; expiresAt: string };
    expect(memoryOf(rel)).toBe(String(100 * MiB));
    const deadline = Date.parse(out.expiresAt);
    expect(deadline - Date.now()).toBeGreaterThan(3_000);
    // Only the detached reverter runs: our tstop limit has exited.
    const holder = await waitFor(
      'the reverter to hold the expiry lock',
      () => (runner()?.role === 'reverter' ? runner() : null),
      20_000,
    );
    expect(alive(holder.pid)).toBe(true);
    const restoredAt = await waitFor(
      'the old memory limit',
      () => (memoryOf(rel) === before ? Date.now() : null),
      15_000,
      20,
    );
    expect(restoredAt - deadline).toBeGreaterThanOrEqual(0);
    expect(restoredAt - deadline).toBeLessThan(2_000);
    // The reverter exits once nothing is pending.
    await waitFor('the reverter to exit', () => !alive(holder.pid), 20_000);
    const revert = records().find((x) => x.undoes === out.changeId && x.result === 'applied');
    expect(revert).toMatchObject({ action: 'undo', expired: true, via: 'expiry', container: { id } });
    // v1 restores "unlimited" as -1 (the kernel reads it back as the page-rounded maximum).
    const restore = revert!.writes.find((w) => w.path === memoryFile(rel));
    expect([before, '-1']).toContain(restore?.newValue);
    console.log(`--for 6s: restored ${restoredAt - deadline} ms after the deadline`);
    const history = await tstop('limit', 'history');
    const line = history.stdout.split('\n').find((l) => l.startsWith(revert!.id));
    expect(line).toMatch(new RegExp(`undo ${out.changeId}\\s+expired, reverted`));
    expect(history.stdout.split('\n').find((l) => l.startsWith(out.changeId))).toMatch(/applied, expires /);
  });

  it('a value someone else wrote after the change is not clobbered: the revert is a skip with the value found', async () => {
    const { changeId } = await limitFor('conflict', '100m', '3s');
    cg.write('memory', 'conflict', path.basename(memoryFile('conflict')), String(120 * MiB));
    const skip = await waitFor(
      'the skipped revert',
      () => records().find((x) => x.undoes === changeId && x.result === 'skipped'),
      15_000,
      100,
    );
    expect(skip).toMatchObject({ action: 'undo', expired: true, writes: [] });
    expect(skip.found).toEqual([
      { path: memoryFile('conflict'), value: String(120 * MiB), changeSet: String(100 * MiB) },
    ]);
    expect(memoryOf('conflict')).toBe(String(120 * MiB));
    const history = await tstop('limit', 'history');
    expect(history.stdout.split('\n').find((l) => l.startsWith(skip.id))).toMatch(
      new RegExp(
        `expired, skipped\\s+${path.basename(memoryFile('conflict')).replace('.', '\\.')}: found "${120 * MiB}", left alone`,
      ),
    );
  });

  it('limit expiries lists a pending expiry; limit keep cancels it (audited) and the value stays past the deadline', async () => {
    // 20 s: time for three tstop commands on a busy machine before the deadline.
    const { id, changeId, expiresAt } = await limitFor('keep', '90m', '20s');
    await waitFor('the reverter to start', () => runner()?.role === 'reverter', 20_000);
    const list = await tstop('limit', 'expiries');
    expect(list.code).toBe(0);
    const row = list.stdout.split('\n').find((l) => l.startsWith(changeId));
    expect(row).toMatch(new RegExp(`${changeId}\\s+${id}\\s+\\S+: \\d+ -> ${90 * MiB}\\s+\\S+Z\\s+\\d+s`));
    expect(list.stdout).toMatch(/run by reverter \(pid \d+/);
    const keep = await tstop('limit', 'keep', changeId);
    expect(keep.stderr).toBe('');
    expect(keep.stdout).toMatch(new RegExp(`kept change ${changeId} on .*: its values stay \\(change [0-9a-f]{12}\\)`));
    expect((await tstop('limit', 'expiries')).stdout).toBe(`no pending expiries in ${audit}\n`);
    expect(records().at(-1)).toMatchObject({ action: 'keep', keeps: changeId, result: 'applied', via: 'cli' });
    await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 2_000);
    expect(memoryOf('keep')).toBe(String(90 * MiB));
    expect(records().some((x) => x.undoes === changeId)).toBe(false);
    const again = await tstop('limit', 'keep', changeId);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/has no pending expiry: it was reverted, kept or undone already/);
  });

  it('limit undo before the deadline restores the values and cancels the expiry', async () => {
    const { before, changeId } = await limitFor('undo', '80m', '1h');
    const undo = await tstop('limit', 'undo', changeId, '--allow-system', '--yes');
    expect(undo.code).toBe(0);
    expect(undo.stdout).toMatch(/this undo cancels its expiry/);
    expect(memoryOf('undo')).toBe(before);
    expect((await tstop('limit', 'expiries', '--json')).stdout).toMatch(/"pending":\[\]/);
    // Nothing pending: the reverter exits within its one-second look.
    await waitFor('the reverter to exit', () => runner() === null, 20_000);
  });

  it.each([
    ['abc', "--for 'abc': not a duration (examples: 30s, 10m, 2h30m, 7d); nothing was changed"],
    ['-5s', "--for '-5s': not a duration (examples: 30s, 10m, 2h30m, 7d); nothing was changed"],
    ['0', "--for '0': must be at least 1s; nothing was changed"],
    ['500ms', "--for '500ms': must be at least 1s; nothing was changed"],
    ['31d', "--for '31d': must be at most 30d; nothing was changed"],
  ])('--for %s exits 2 with a specific message and changes nothing', async (value, message) => {
    const id = cg.mkdir('bad');
    const files = hashLimitFiles(cg);
    const log = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
    const r = await tstop('limit', id, '--memory', '70m', `--for=${value}`, '--allow-system', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tstop: limit: ${message}\n`);
    expect(r.stdout).toBe('');
    expect(hashLimitFiles(cg)).toEqual(files);
    expect(fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '').toBe(log);
  });

  it('a reverter killed with kill -9 is replaced by the next tstop record, which reverts at the deadline', async () => {
    const { before, changeId, expiresAt } = await limitFor('killed', '60m', '5s');
    const holder = await waitFor('the reverter', () => (runner()?.role === 'reverter' ? runner() : null), 20_000);
    process.kill(holder.pid, 'SIGKILL');
    await waitFor('the reverter to die', () => !alive(holder.pid), 20_000);
    const record = spawn(
      process.execPath,
      [TSTOP_BIN, 'record', '--store', cg.tmp('store'), '--interval', '1s', '--audit-log', audit],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(record);
    let text = '';
    record.stderr!.on('data', (b: Buffer) => (text += b.toString()));
    record.stdout!.on('data', (b: Buffer) => (text += b.toString()));
    await waitFor('record to take the expiries over', () => runner()?.role === 'record', 60_000);
    const restoredAt = await waitFor(
      'the old limit',
      () => (memoryOf('killed') === before ? Date.now() : null),
      60_000,
      20,
    );
    expect(restoredAt).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    await waitFor('the applied revert', () => records().find((x) => x.undoes === changeId && x.result === 'applied'));
    expect(
      records()
        .filter((x) => x.undoes === changeId)
        .at(-1),
    ).toMatchObject({ via: 'expiry', expired: true });
    await waitFor('the log line', () => new RegExp(`expiry of change ${changeId} on .*: expired, reverted`).test(text));
    record.kill('SIGTERM');
    await new Promise((resolve) => record.once('exit', resolve));
    expect(record.exitCode).toBe(0);
  }, 180_000);

  it('tstop export, started with nothing pending, reverts a limit --for made while it runs (its reverter stands by)', async () => {
    await waitFor('no runner left from the tests before', () => runner() === null, 60_000);
    const exporter = spawn(process.execPath, [TSTOP_BIN, 'export', '--listen', '127.0.0.1:0', '--audit-log', audit], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(exporter);
    let text = '';
    exporter.stderr!.on('data', (b: Buffer) => (text += b.toString()));
    exporter.stdout!.resume();
    // Its agent holds the runner lock with nothing pending (the limiter not loaded yet: unit/agent-expiry-lazy).
    await waitFor('export to hold the expiry lock', () => runner()?.pid === exporter.pid, 60_000);
    const { before, changeId, expiresAt } = await limitFor('exported', '60m', '4s');
    const restoredAt = await waitFor(
      'the old limit',
      () => (memoryOf('exported') === before ? Date.now() : null),
      60_000,
      20,
    );
    expect(restoredAt).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const revert = await waitFor('the applied revert', () =>
      records().find((x) => x.undoes === changeId && x.result === 'applied'),
    );
    expect(revert).toMatchObject({ via: 'expiry', expired: true, pid: exporter.pid });
    await waitFor('the log line', () => new RegExp(`expiry of change ${changeId} on .*: expired, reverted`).test(text));
    exporter.kill('SIGTERM');
    await new Promise((resolve) => exporter.once('exit', resolve));
    expect(exporter.exitCode).toBe(0);
  }, 180_000);
});
