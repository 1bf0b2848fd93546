// `tstop limit`, `freeze`, `thaw`, `kill` through the real CLI on real
// cgroups the test creates, with real processes in them. Each limit is
// checked in the file the mode says (v1 here, v2 in the v2 lane) and in a
// fresh Collector snapshot; behaviour (a CPU cap, a fork limit, an IO
// throttle, a frozen counter) is measured, not assumed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog, type AuditLine } from '../../src/limiter/audit.js';
import { createLimiter } from '../../src/limiter/limiter.js';
import { Collector } from '../../src/collect/collector.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { hashLimitFiles, RawLoop, runTstop, spawnInCgroup, TSTOP_BIN } from '../helpers/limit.js';
import { limitSuite, snapshotOf } from '../helpers/limit-suite.js';
import { spareCoreFor } from '../helpers/testload.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(isRoot)('tstop limit on the real kernel', () => {
  let cg: TestCgroups;
  let loop: RawLoop;
  let env: NodeJS.ProcessEnv;
  const { tstop, kind, read, history } = limitSuite('limit', (s) => ({ cg, loop, env } = s));

  it('accepts a container cgroup without --allow-system and refuses a plain one', async () => {
    const cid = `docker-${'c'.repeat(64)}.scope`;
    const container = cg.mkdir(cid);
    const plain = cg.mkdir('plain');
    const ok = await tstop('limit', container, '--pids-limit', '20');
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    expect(read('pids', cid, 'pids.max')).toBe('20');
    const no = await tstop('limit', plain, '--pids-limit', '20');
    expect(no.code).toBe(2);
    expect(no.stderr).toBe(
      `tstop: limit: refusing ${plain}: it is a cgroup no container runtime created, not a container; pass --allow-system to change it anyway\n`,
    );
    expect(read('pids', 'plain', 'pids.max')).toBe('max');
  });

  it('--dry-run prints path, old and new value and writes nothing', async () => {
    const id = cg.mkdir('dry');
    const before = hashLimitFiles(cg);
    const r = await tstop('limit', id, '--pids-limit', '7', '--cpus', '1.5', '--dry-run', '--allow-system');
    expect(r.code).toBe(0);
    const pids = path.join(cg.controllerDir('pids', 'dry'), 'pids.max');
    const cpu = path.join(cg.controllerDir('cpu', 'dry'), kind('cpu') === 'v1' ? 'cpu.cfs_quota_us' : 'cpu.max');
    expect(r.stdout).toContain(`  ${pids}: max -> 7\n`);
    expect(r.stdout).toContain(
      kind('cpu') === 'v1' ? `  ${cpu}: -1 -> 150000\n` : `  ${cpu}: max 100000 -> 150000 100000\n`,
    );
    expect(r.stdout).toMatch(/dry run: nothing was written\n$/);
    expect(hashLimitFiles(cg)).toEqual(before);
    const json = JSON.parse(
      (await tstop('limit', id, '--pids-limit', '7', '--dry-run', '--json', '--allow-system')).stdout,
    );
    expect(json.writes).toEqual([{ path: pids, oldValue: 'max', newValue: '7' }]);
  });

  it('asks on a terminal and writes nothing when the answer is no', async (ctx) => {
    if (!fs.existsSync('/usr/bin/script')) ctx.skip('no script(1) to give tstop a terminal');
    const id = cg.mkdir('tty');
    const onTerminal = (answer: string): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(TSTOP_BIN)} limit ${id} --pids-limit 9 --allow-system`;
        const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('[y/N]')) child.stdin.end(`${answer}\n`);
        });
        child.once('exit', (code) => resolve({ code, out }));
      });
    const no = await onTerminal('n');
    expect(no.out).toContain(`apply 1 write to ${id}? [y/N]`);
    expect(no.out).toContain('not applied: nothing was written');
    expect(no.code).toBe(1);
    expect(read('pids', 'tty', 'pids.max')).toBe('max');
    const yes = await onTerminal('y');
    expect(yes.code).toBe(0);
    expect(read('pids', 'tty', 'pids.max')).toBe('9');
  });

  it('refuses a memory limit below usage without --force, saying how far below', async () => {
    const id = cg.mkdir('usage');
    await cg.spawn('usage', ['alloc', '64']).ready;
    const usage = snapshotOf(id).memory!.usageBytes!;
    const before = hashLimitFiles(cg);
    const r = await tstop('limit', id, '--memory', '32m', '--allow-system');
    expect(r.code).toBe(2);
    const fmt = (n: number): string => `${(n / MiB).toFixed(n / MiB >= 100 ? 0 : 1)}MiB`;
    expect(r.stderr).toMatch(
      new RegExp(
        `^tstop: limit: --memory 32\\.0MiB is (\\d+\\.\\d)MiB below the current memory usage of (\\d+\\.\\d)MiB of ${id}: the kernel would have to reclaim that much at once or OOM-kill processes; pass --force to set it anyway\\n$`,
      ),
    );
    const [, below, current] = /is (\S+)MiB below the current memory usage of (\S+)MiB/.exec(r.stderr)!;
    expect(Number(current)).toBeGreaterThanOrEqual(64);
    expect(Number(below)).toBeCloseTo(Number(current) - 32, 0);
    expect(fmt(usage)).toMatch(/MiB$/);
    expect(hashLimitFiles(cg)).toEqual(before);

    // With --force the kernel decides: v1 cannot reclaim anonymous memory without swap and says EBUSY
    // (tstop restores the old limit); v2 reclaims or OOM-kills to get under memory.max.
    const forced = await tstop('limit', id, '--memory', '32m', '--allow-system', '--force');
    console.info(
      `--memory 32m --force on a 64 MiB process: exit ${forced.code}: ${forced.stderr.trim() || forced.stdout.split('\n')[0]}`,
    );
    if (
      kind('memory') === 'v1' &&
      snapshotOf(id).memory!.swapBytes === 0 &&
      fs.readFileSync('/proc/swaps', 'utf8').split('\n').length <= 2
    ) {
      expect(forced.code).toBe(1);
      expect(forced.stderr).toContain(
        'failed: EBUSY (device or resource busy): the kernel could not reclaim enough memory to get under the new limit; everything written was restored',
      );
      expect(read('memory', 'usage', 'memory.limit_in_bytes')).toBe('9223372036854771712');
      expect((await history()).at(-1)!.result).toBe('rolled-back');
    } else {
      expect(forced.code).toBe(0);
      expect(snapshotOf(id).memory!.limitBytes).toBe(32 * MiB);
    }
    await cg.cleanupProcesses('usage');
  });

  it('holds a busy loop near half a core with --cpus 0.5', async () => {
    const id = cg.mkdir('cpu');
    const w = cg.spawn('cpu', ['spin']);
    await w.ready;
    const r = await tstop('limit', id, '--cpus', '0.5', '--allow-system');
    expect(r.code).toBe(0);
    const collector = new Collector();
    try {
      collector.collect();
      await sleep(3000);
      const c = collector.collect().containers.find((x) => x.id === id)!;
      expect(c.cpu!.quotaCores).toBe(0.5);
      console.info(`--cpus 0.5: a busy loop used ${c.cpu!.percent!.toFixed(1)} % of a core over 3 s`);
      if (spareCoreFor('--cpus 0.5')) expect(c.cpu!.percent).toBeGreaterThanOrEqual(40);
      expect(c.cpu!.percent).toBeLessThanOrEqual(60);
      expect(c.cpu!.throttledPeriods).toBeGreaterThan(0);
      expect(c.cpu!.throttledPercent).toBeGreaterThan(50);
    } finally {
      collector.close();
      await cg.cleanupProcesses('cpu');
    }
  });

  it('makes the 6th task fail to fork with --pids-limit 5', async () => {
    const id = cg.mkdir('pids');
    const r = await tstop('limit', id, '--pids-limit', '5', '--allow-system');
    expect(r.code).toBe(0);
    const w = cg.spawn('pids', ['forkcount', '10']);
    await w.ready;
    // testload is the first task: 4 forks succeed, the 5th fork (the 6th task) and later ones fail.
    expect(w.stdout().trim()).toBe('4');
    const c = snapshotOf(id);
    expect(c.pids!.current).toBe(5);
    expect(c.pids!.limit).toBe(5);
    expect(c.pids!.limitHits).toBe(6);
    await cg.cleanupProcesses('pids');
  });

  it('throttles an O_DIRECT read on a loop device with --device-read-bps', async () => {
    const id = cg.mkdir('io');
    const timeRead = async (): Promise<number> => {
      const start = Date.now();
      // 8 MiB straight from the block device, bypassing the page cache.
      const dd = spawnInCgroup(cg, 'io', [
        'dd',
        `if=${loop.device}`,
        'of=/dev/null',
        'bs=256k',
        'count=32',
        'iflag=direct',
        'status=none',
      ]);
      const code = await new Promise((r) => dd.once('exit', r));
      expect(code).toBe(0);
      return (Date.now() - start) / 1000;
    };
    const free = await timeRead();
    const r = await tstop('limit', id, '--device-read-bps', `${loop.device}:2mb`, '--allow-system');
    expect(r.code).toBe(0);
    const throttled = await timeRead();
    const rate = 8 / throttled;
    console.info(
      `--device-read-bps 2mb: O_DIRECT read of 8 MiB took ${throttled.toFixed(2)} s (${rate.toFixed(2)} MiB/s; ${free.toFixed(2)} s unthrottled)`,
    );
    expect(rate).toBeGreaterThan(1.5);
    expect(rate).toBeLessThan(2.6);
    expect(throttled).toBeGreaterThan(free * 3);
    const limit = snapshotOf(id).io!.limits.find((l) => l.major === loop.major && l.minor === loop.minor);
    expect(limit?.readBps).toBe(2 * MiB);
  });

  it('freeze stops a counter from advancing and thaw resumes it', async () => {
    const id = cg.mkdir('freeze');
    const counter = cg.tmp('counter');
    await cg.spawn('freeze', ['count', counter]).ready;
    const value = (): number => Number(fs.readFileSync(counter, 'utf8'));
    await waitFor('the counter to run', () => fs.existsSync(counter) && value() > 3);
    const f = await tstop('freeze', id, '--allow-system');
    expect([f.code, f.stderr]).toEqual([0, '']);
    expect(snapshotOf(id).freezer).toBe('frozen');
    const frozenAt = value();
    await sleep(400);
    expect(value()).toBe(frozenAt);
    const t = await tstop('thaw', id, '--allow-system');
    expect([t.code, t.stderr]).toEqual([0, '']);
    await sleep(400);
    expect(value()).toBeGreaterThan(frozenAt + 10);
    expect(snapshotOf(id).freezer).toBe('thawed');
    const [freeze, thaw] = (await history()).slice(-2);
    expect([freeze.action, freeze.result, thaw.action, thaw.result]).toEqual(['freeze', 'applied', 'thaw', 'applied']);
    await cg.cleanupProcesses('freeze');
  });

  it('undo restores every old value (itself audited)', async () => {
    const id = cg.mkdir('undo');
    await cg.spawn('undo', ['sleep']).ready;
    const before = hashLimitFiles(cg);
    const snapBefore = snapshotOf(id);
    const args = [
      '--memory',
      '300m',
      '--memory-reservation',
      '100m',
      '--cpus',
      '0.7',
      '--cpu-shares',
      '300',
      '--cpuset-cpus',
      '0',
    ];
    args.push(
      '--pids-limit',
      '33',
      '--device-read-bps',
      `${loop.device}:3mb`,
      '--device-write-iops',
      `${loop.device}:99`,
    );
    if (kind('devices') === 'v1')
      args.push('--device-deny', 'a', '--device-allow', 'c 1:3 rwm', '--device-allow', 'c 1:5 rw');
    if (kind('memory') === 'v2') args.push('--memory-high', '250m');
    const r = await tstop('limit', id, ...args, '--allow-system');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const change = (await history()).at(-1)!;
    expect(change.writes.length).toBeGreaterThanOrEqual(8); // v2: one io.max line, no device files
    expect(hashLimitFiles(cg)).not.toEqual(before);
    const u = await tstop('limit', 'undo', change.id, '--allow-system');
    expect([u.code, u.stderr]).toEqual([0, '']);
    const after = hashLimitFiles(cg);
    if (kind('cpuset') === 'v2') {
      // An empty v2 cpuset.cpus ("the parent's") cannot come back while the cgroup has processes:
      // undo writes the parent's effective CPUs, the same set, and says so.
      const file = path.join(cg.controllerDir('cpuset', 'undo'), 'cpuset.cpus');
      const parent = fs.readFileSync(path.join(cg.controllerDir('cpuset'), 'cpuset.cpus.effective'), 'utf8').trim();
      expect(read('cpuset', 'undo', 'cpuset.cpus')).toBe(parent);
      expect(u.stdout).toContain(
        `note: ${file} was empty (the parent's set); a cgroup with processes cannot go back to empty, so it gets the parent's ${parent}`,
      );
      after.delete(file);
      before.delete(file);
    }
    expect(after).toEqual(before);
    const snapAfter = snapshotOf(id);
    expect(snapAfter.memory!.limitBytes).toBe(snapBefore.memory!.limitBytes);
    expect(snapAfter.cpu!.quotaCores).toBe(snapBefore.cpu!.quotaCores);
    expect(snapAfter.cpu!.cpus).toBe(snapBefore.cpu!.cpus);
    expect(snapAfter.pids!.limit).toBe(snapBefore.pids!.limit);
    expect(snapAfter.io!.limits).toEqual(snapBefore.io!.limits);
    expect(snapAfter.devices).toEqual(snapBefore.devices);
    const undo = (await history()).at(-1)!;
    expect([undo.action, undo.undoes, undo.result]).toEqual(['undo', change.id, 'applied']);
    const again = await tstop('limit', 'undo', change.id, '--allow-system');
    expect(again.stderr).toBe(`tstop: limit: change ${change.id} was already undone by ${undo.id}\n`);
    expect(again.code).toBe(2);
  });

  it('undo refuses when a file was changed since, unless --force', async () => {
    const id = cg.mkdir('since');
    const r = await tstop('limit', id, '--pids-limit', '40', '--allow-system');
    expect(r.code).toBe(0);
    const change = (await history()).at(-1)!;
    cg.write('pids', 'since', 'pids.max', '41');
    const u = await tstop('limit', 'undo', change.id.slice(0, 6), '--allow-system');
    expect(u.code).toBe(2);
    const file = path.join(cg.controllerDir('pids', 'since'), 'pids.max');
    expect(u.stderr).toBe(
      `tstop: limit: not undoing ${change.id}: changed since by someone else: ${file} (now "41", the change set "40"); pass --force to restore the old values anyway\n`,
    );
    expect(read('pids', 'since', 'pids.max')).toBe('41');
    const forced = await tstop('limit', 'undo', change.id, '--allow-system', '--force');
    expect(forced.code).toBe(0);
    expect(read('pids', 'since', 'pids.max')).toBe('max');
  });

  it('changes nothing when the audit log cannot be written', async () => {
    const id = cg.mkdir('noaudit');
    const dir = cg.tmp('audit-is-a-directory');
    fs.mkdirSync(dir);
    const before = hashLimitFiles(cg);
    const r = await runTstop(['limit', id, '--pids-limit', '9', '--allow-system'], { ...env, TSTOP_AUDIT_LOG: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`tstop: limit: cannot read the audit log ${dir}: EISDIR (is a directory)\n`);
    expect(hashLimitFiles(cg)).toEqual(before);
  });

  it('rolls a change back when its applied record cannot be written', async () => {
    const id = cg.mkdir('lostrecord');
    /** An audit log that takes the pending record, then fails like a full disk. */
    class FailingLog extends AuditLog {
      lines: AuditLine[] = [];
      override append(record: AuditLine): void {
        if (record.type === 'change' && record.result !== 'pending') {
          throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        }
        this.lines.push(record);
        super.append(record);
      }
    }
    const limiter = createLimiter({ auditLog: cg.tmp('lost.jsonl') });
    const log = new FailingLog(cg.tmp('lost.jsonl'));
    Object.defineProperty(limiter, 'audit', { value: log });
    const before = hashLimitFiles(cg);
    const plan = await limiter.plan(id, { pidsLimit: '9', cpus: '0.25', memory: '64m' }, { allowSystem: true });
    expect(plan.writes).toHaveLength(3);
    await expect(limiter.apply(plan, { via: 'cli' })).rejects.toThrow(
      `the change could not be recorded in the audit log ${log.file} (ENOSPC (no space left on device)), so it was rolled back`,
    );
    expect(hashLimitFiles(cg)).toEqual(before);
    expect(log.lines.map((l) => (l.type === 'change' ? l.result : l.type))).toEqual(['pending']);
  });

  it('kill signals every process of the container', async () => {
    const id = cg.mkdir('kill');
    await cg.spawn('kill', ['fork', '3']).ready;
    expect(snapshotOf(id).processes).toHaveLength(4);
    const r = await tstop('kill', id, '--signal', 'TERM', '--allow-system');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^sent SIGTERM to 4 processes of ${id}: change [0-9a-f]{12}\\n$`));
    await waitFor('the processes to leave', () => snapshotOf(id).processes.length === 0);
    const rec = (await history()).at(-1)!;
    expect([rec.action, rec.signal, rec.pids?.length, rec.result]).toEqual(['kill', 'SIGTERM', 4, 'applied']);
    const undo = await tstop('limit', 'undo', rec.id);
    expect(undo.stderr).toBe(`tstop: limit: change ${rec.id} sent SIGTERM; signals cannot be undone\n`);
  });

  it('kill with SIGKILL empties the cgroup, forks included (v2: cgroup.kill)', async () => {
    const id = cg.mkdir('sigkill');
    await cg.spawn('sigkill', ['fork', '5']).ready;
    const r = await tstop('kill', id, '--allow-system');
    expect([r.code, r.stderr]).toEqual([0, '']);
    await waitFor('the cgroup to empty', () => snapshotOf(id).processes.length === 0);
    const rec = (await history()).at(-1)!;
    expect([rec.action, rec.signal, rec.result]).toEqual(['kill', 'SIGKILL', 'applied']);
    expect(rec.pids).toHaveLength(6);
    if (cg.mounts.mode === 'v2') {
      expect(rec.writes).toEqual([
        { path: path.join(cg.controllerDir('pids', 'sigkill'), 'cgroup.kill'), oldValue: '', newValue: '1' },
      ]);
    } else expect(rec.writes).toEqual([]);
  });

  it('history lists id, time, who, container and old -> new, filtered by container', async () => {
    const id = cg.mkdir('hist');
    await tstop('limit', id, '--pids-limit', '11', '--allow-system');
    const r = await tstop('limit', 'history', id);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID +TIME +WHO +CONTAINER +ACTION +RESULT +CHANGES$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      new RegExp(
        `^[0-9a-f]{12}  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  root via cli +${id} +limit +applied +pids.max: max -> 11$`,
      ),
    );
  });
});
