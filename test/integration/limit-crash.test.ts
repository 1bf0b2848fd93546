// kill -9 of `tstop limit` in the middle of a change, 30 times: two rounds
// in three at a random moment after the pending record appears (the writes
// are spread out by TSTOP_LIMIT_TEST_PAUSE_MS so the kill lands between two
// of them), every third at a random moment of the whole run. After every kill the audit log must be valid JSON
// Lines with no torn record; after `tstop limit recover` no change may be
// left pending and every logged change must match the files: an applied
// change's new values, or the old values of one that was interrupted.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { latestChanges, parseAuditText } from '../../src/limiter/audit.js';
import { readNoFollow } from '../../src/limiter/cgroup.js';
import { semanticsOf } from '../../src/limiter/values.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { limitEnv, runTstop, startTstop } from '../helpers/limit.js';

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// Fewer in the emulated v2 lane, where each node start takes seconds.
const ROUNDS = process.env.TSTOP_TEST_LANE === 'v2' ? 10 : 30;
const PAUSE_MS = 30;

describe.runIf(isRoot)('kill -9 in the middle of a change', () => {
  let cg: TestCgroups;
  let audit: string;
  let env: NodeJS.ProcessEnv;
  let id: string;

  beforeAll(async () => {
    cg = new TestCgroups('crash');
    id = cg.mkdir('c');
    await cg.spawn('c', ['sleep']).ready;
    audit = cg.tmp('audit.jsonl');
    env = limitEnv(cg, audit, { TSTOP_LIMIT_TEST_PAUSE_MS: String(PAUSE_MS) });
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  /** Every line ends in a newline and parses; returns the records. */
  function validLog(): ChangeRecord[] {
    const text = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '';
    expect(text === '' || text.endsWith('\n')).toBe(true);
    const parsed = parseAuditText(text);
    expect(parsed.tornBytes).toBe(0);
    expect(parsed.badLines).toEqual([]);
    return latestChanges(parsed.lines);
  }

  /** Each file holds what the last change touching it says: new if applied, old otherwise. */
  function filesMatchLog(changes: ChangeRecord[]): number {
    const expected = new Map<string, string>();
    for (const c of changes) {
      expect(c.result).not.toBe('pending');
      for (const w of c.writes) expected.set(w.path, c.result === 'applied' ? w.newValue : w.oldValue);
    }
    for (const [file, value] of expected) {
      const sem = semanticsOf(path.basename(file));
      const current = sem.current(readNoFollow(file) ?? '', value);
      if (!sem.satisfies(current, value))
        throw new Error(`${file} holds ${JSON.stringify(current)}, the log says ${JSON.stringify(value)}`);
    }
    return expected.size;
  }

  it(`leaves a valid log whose changes match the files, ${ROUNDS} times`, async () => {
    const cpus = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    const memDir = cg.controllerDir('memory', 'c');
    const swap = ['memory.memsw.limit_in_bytes', 'memory.swap.max'].some((f) => fs.existsSync(path.join(memDir, f)));
    const sets = [
      [
        '--memory',
        '300m',
        '--memory-reservation',
        '100m',
        '--cpus',
        '0.3',
        '--pids-limit',
        '30',
        '--cpu-shares',
        '300',
        '--cpuset-cpus',
        '0',
      ],
      [
        '--memory',
        '400m',
        '--memory-reservation',
        '200m',
        '--cpus',
        '0.6',
        '--pids-limit',
        '60',
        '--cpu-shares',
        '600',
        '--cpuset-cpus',
        cpus,
      ],
    ];
    if (swap) {
      sets[0].push('--memory-swap', '500m');
      sets[1].push('--memory-swap', '700m');
    }
    // One uninterrupted change to learn how long a change takes here.
    const first = await runTstop(['limit', id, ...sets[0], '--allow-system'], env);
    expect([first.code, first.stderr]).toEqual([0, '']);
    const duration = first.ms;

    let interrupted = 0;
    let killedBeforeAnyRecord = 0;
    let inForce = 0;
    const pendingSeen = async (count: number, exited: () => boolean): Promise<boolean> => {
      // The log grows by one line when the pending record is written, right before the first cgroup write.
      for (;;) {
        const lines = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8').split('\n').length - 1 : 0;
        if (lines > count) return true;
        if (exited()) return false;
        await sleep(2);
      }
    };
    for (let round = 0; round < ROUNDS; round++) {
      const before = validLog().length;
      const linesBefore = fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8').split('\n').length - 1 : 0;
      // Always the other set than the one in force, so every run has writes to make.
      const child = startTstop(['limit', id, ...sets[1 - inForce], '--allow-system'], env);
      let done = false;
      const exited = new Promise<void>((r) => child.once('exit', () => ((done = true), r())));
      if (round % 3 === 2) {
        // Every third round at a random moment of the whole run: startup, planning, writing or done.
        await sleep(duration * (0.3 + 0.8 * Math.random()));
      } else {
        // Otherwise at a random moment between the pending record and the last write.
        await pendingSeen(linesBefore, () => done);
        await sleep(Math.random() * PAUSE_MS * sets[0].length * 0.5);
      }
      child.kill('SIGKILL');
      await exited;
      const after = validLog();
      if (after.length === before) killedBeforeAnyRecord++;
      if (after.at(-1)?.result === 'pending') interrupted++;
      const r = await runTstop(['limit', 'recover', '--json', '--allow-system'], env);
      expect(r.code).toBe(0);
      expect(filesMatchLog(validLog())).toBeGreaterThanOrEqual(5);
      if (after.length > before && after.at(-1)?.result === 'applied') inForce = 1 - inForce;
    }
    console.info(
      `${ROUNDS} kills: ${interrupted} mid-change (pending, then restored by recover), ${killedBeforeAnyRecord} before the first record, ${ROUNDS - interrupted - killedBeforeAnyRecord} after the change completed`,
    );
    expect(interrupted).toBeGreaterThanOrEqual(ROUNDS / 2);
    const all = validLog();
    expect(all.filter((c) => c.result === 'interrupted')).toHaveLength(interrupted);
    const notes = all.filter((c) => c.result === 'interrupted').map((c) => c.notes.at(-1)!);
    expect(notes.every((n) => /^process \d+ died before confirming this change; /.test(n))).toBe(true);
  }, 1_800_000);
});
