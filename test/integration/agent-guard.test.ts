// The agents' share of the standing work, on the real kernel: `tstop export
// --guard FILE` runs guard rules beside the exporter and shows
// tstop_guard_actions_total{rule,action}, tstop_guard_rule_firing{rule} and
// tstop_limit_expiry_pending with their values; a guard `limit ... --for`
// is a durable expiry the exporting agent itself reverts at its deadline.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExportProcess, type ExportProcess } from '../../bench/export-process.js';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { ExpiryLock } from '../../src/limiter/expiry.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { request } from '../helpers/http.js';
import { freeze } from '../helpers/kernel.js';
import { killReverter, limitEnv, runTstop, TSTOP_BIN } from '../helpers/limit.js';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;

/** The value of one series in an exposition, or null. */
function seriesValue(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe.runIf(isRoot)('tstop export --guard: guard rules and expiries in the exporting agent', () => {
  let cg: TestCgroups;
  let audit: string;
  let env: NodeJS.ProcessEnv;
  let exp: ExportProcess | null = null;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    cg = new TestCgroups('agent');
    audit = cg.tmp('audit.jsonl');
    env = limitEnv(cg, audit);
  });

  afterAll(async () => {
    await exp?.stop();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // The reverter of the hand-made hour (standing by while the exporter ran, then running it).
    killReverter(audit);
    // A child frozen by itself (v1) stays frozen when its parent is thawed: thaw the hog first.
    if (cg && fs.existsSync(cg.controllerDir('freezer', 'hog'))) freeze(cg, 'hog', false);
    if (cg) await cg.cleanupProcesses('');
    await cg?.cleanup();
  });

  it('freezes a 64 MiB process, counts the action, shows the rule firing and the pending expiries; its limit --for comes back', async () => {
    const hog = cg.mkdir('hog');
    await cg.spawn('hog', ['alloc', '64']).ready;
    const capped = cg.mkdir('capped');
    await cg.spawn('capped', ['alloc', '64']).ready;
    const memoryFile = path.join(cg.controllerDir('memory', 'capped'), cg.v2 ? 'memory.max' : 'memory.limit_in_bytes');
    const before = fs.readFileSync(memoryFile, 'utf8').trim();
    // A pending expiry made by hand before the agent starts (an hour: it stays pending).
    const other = cg.mkdir('other');
    const manual = await runTstop(
      ['limit', other, '--memory', '500m', '--for', '1h', '--allow-system', '--yes', '--json'],
      env,
    );
    expect(manual.code).toBe(0);
    const rules = cg.tmp('rules.yml');
    fs.writeFileSync(
      rules,
      `rules:
  - name: mem-hog
    match: "${hog}"
    when: memory.usageBytes > 32MiB
    for: 1s
    action: freeze
    allowSystem: true
  - name: cap
    match: "${capped}"
    when: memory.usageBytes > 32MiB
    for: 1s
    action: limit --memory 200m --for 3s
    allowSystem: true
`,
    );
    exp = await startExportProcess(['--guard', rules, '--guard-interval', '200ms', '--min-interval', '100ms'], { env });
    const frozen = path.join(cg.controllerDir('freezer', 'hog'), cg.v2 ? 'cgroup.freeze' : 'freezer.state');
    await waitFor('the freeze', () => /FROZEN|1/.test(fs.readFileSync(frozen, 'utf8')), 20_000, 100);
    await waitFor('the cap', () => fs.readFileSync(memoryFile, 'utf8').trim() === String(200 * MiB), 20_000, 50);

    const metrics = (await request(`${exp.url}metrics`)).body.toString();
    if (!/^tstop_limit_expiry_pending /m.test(metrics)) console.log(exp.stderr());
    expect(seriesValue(metrics, 'tstop_guard_actions_total{rule="mem-hog",action="freeze"}')).toBe(1);
    expect(seriesValue(metrics, 'tstop_guard_actions_total{rule="cap",action="limit"}')).toBe(1);
    // The frozen hog still holds 64 MiB: its rule keeps firing (the cooldown keeps it from acting again).
    expect(seriesValue(metrics, 'tstop_guard_rule_firing{rule="mem-hog"}')).toBe(1);
    expect(metrics).toMatch(/# TYPE tstop_guard_actions_total counter\n/);
    expect(metrics).toMatch(/# TYPE tstop_guard_rule_firing gauge\n/);
    // The hand-made hour and the guard's 3 s cap.
    expect(seriesValue(metrics, 'tstop_limit_expiry_pending')).toBe(2);

    // The hand-made change's reverter saw the agent and left: the exporter holds the expiry
    // lock and reverts the cap itself at its deadline.
    await waitFor(
      'the exporter to hold the expiry lock',
      () => new ExpiryLock(audit).holder()?.pid === exp!.pid,
      20_000,
    );
    await waitFor('the cap to come back', () => fs.readFileSync(memoryFile, 'utf8').trim() === before, 20_000, 50);
    const log = fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ChangeRecord);
    const cap = log.find((r) => r.rule === 'cap' && r.action === 'limit' && r.result === 'applied')!;
    expect(cap).toMatchObject({ via: 'guard', container: { id: capped } });
    expect(cap.expiresAt).toBeDefined();
    expect(log.find((r) => r.undoes === cap.id && r.result === 'applied')).toMatchObject({
      via: 'expiry',
      rule: 'cap',
      expired: true,
    });
    // The cap's expiry is resolved: the hand-made one is left.
    const after = (await request(`${exp.url}metrics`)).body.toString();
    expect(seriesValue(after, 'tstop_limit_expiry_pending')).toBe(1);
    await exp.stop();
    // Nothing left pending for the next tests: undo the hour (its reverter then exits).
    const manualId = (JSON.parse(manual.stdout) as { changeId: string }).changeId;
    expect((await runTstop(['limit', 'undo', manualId, '--allow-system', '--yes'], env)).code).toBe(0);
    expect(exp.child.exitCode).toBe(0);
    expect(exp.stderr()).toMatch(/expiry of change [0-9a-f]{12} on .*: expired, reverted/);
  });
  /** A cgroup holding 64 MiB, its memory limit file and the limit's value now. */
  async function hog(rel: string): Promise<{ id: string; file: string; before: string }> {
    const id = cg.mkdir(rel);
    await cg.spawn(rel, ['alloc', '64']).ready;
    const file = path.join(cg.controllerDir('memory', rel), cg.v2 ? 'memory.max' : 'memory.limit_in_bytes');
    return { id, file, before: fs.readFileSync(file, 'utf8').trim() };
  }

  function capRule(name: string, id: string): string {
    const file = cg.tmp(`${name}.yml`);
    fs.writeFileSync(
      file,
      `rules:\n  - name: ${name}\n    match: "${id}"\n    when: memory.usageBytes > 32MiB\n    for: 1s\n` +
        `    action: limit --memory 200m --for 4s\n    allowSystem: true\n`,
    );
    return file;
  }

  function start(args: string[]): { child: ChildProcess; out: () => string } {
    const child = spawn(process.execPath, [TSTOP_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let text = '';
    child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
    return { child, out: () => text };
  }

  it('tstop record --guard runs the rules on its own collector and reverts its limit --for at the deadline', async () => {
    const h = await hog('rec');
    const rec = start(['record', '--store', cg.tmp('store'), '--interval', '1s', '--guard', capRule('rec-cap', h.id)]);
    rec.child.stdout!.resume();
    await waitFor('the cap', () => fs.readFileSync(h.file, 'utf8').trim() === String(200 * MiB), 90_000, 50);
    await waitFor('the old limit', () => fs.readFileSync(h.file, 'utf8').trim() === h.before, 60_000, 50);
    await waitFor('the log line', () => /rule rec-cap: limit memory=200m for 4s .*\[done, change/.test(rec.out()));
    const revert = await waitFor('the revert record', () =>
      fs
        .readFileSync(audit, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ChangeRecord)
        .find((r) => r.expired && r.rule === 'rec-cap' && r.result === 'applied'),
    );
    // Run by the recorder (an agent), not a reverter.
    expect(revert.pid).toBe(rec.child.pid);
    expect(rec.out()).toMatch(/expiry of change [0-9a-f]{12} on .*: expired, reverted/);
    rec.child.kill('SIGTERM');
    await new Promise((resolve) => rec.child.once('exit', resolve));
    expect(rec.child.exitCode).toBe(0);
  }, 240_000);

  it('a guard killed with kill -9 after its limit --for: the standing-by reverter restores the value at the deadline', async () => {
    const h = await hog('killed');
    const g = start(['guard', '--config', capRule('kill-cap', h.id), '--interval', '200ms']);
    await waitFor('the cap', () => fs.readFileSync(h.file, 'utf8').trim() === String(200 * MiB), 90_000, 50);
    // Once the change is recorded the guard has started a reverter, which stands by while the guard runs.
    await waitFor('the standing-by reverter', () => new ExpiryLock(audit).reverterRunning(), 30_000, 50);
    g.child.kill('SIGKILL');
    await new Promise((resolve) => g.child.once('exit', resolve));
    await waitFor('the old limit', () => fs.readFileSync(h.file, 'utf8').trim() === h.before, 60_000, 50);
    const revert = fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ChangeRecord)
      .filter((r) => r.expired && r.rule === 'kill-cap')
      .at(-1);
    expect(revert).toMatchObject({ result: 'applied', via: 'expiry', container: { id: h.id } });
    // Run by the reverter, not the dead guard.
    expect(revert!.pid).not.toBe(g.child.pid);
  }, 240_000);
});
