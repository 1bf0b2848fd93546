// kill -9 of `tstop limit` in the middle of a change, 30 times with a random
// delay (TSTOP_LIMIT_TEST_PAUSE_MS spreads the writes out so most kills land
// between two of them). After every kill the audit log must be valid JSON
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
    env = limitEnv(cg, audit, { TSTOP_LIMIT_TEST_PAUSE_MS: '30' });
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
    for (let round = 0; round < ROUNDS; round++) {
      const before = validLog().length;
      const child = startTstop(['limit', id, ...sets[(round + 1) % 2], '--allow-system'], env);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await sleep(duration * (0.3 + 0.8 * Math.random()));
      child.kill('SIGKILL');
      await exited;
      const after = validLog();
      if (after.length === before) killedBeforeAnyRecord++;
      if (after.at(-1)?.result === 'pending') interrupted++;
      const r = await runTstop(['limit', 'recover', '--json'], env);
      expect(r.code).toBe(0);
      expect(filesMatchLog(validLog())).toBeGreaterThanOrEqual(5);
    }
    console.info(
      `${ROUNDS} kills: ${interrupted} mid-change (pending, then restored by recover), ${killedBeforeAnyRecord} before the first record, ${ROUNDS - interrupted - killedBeforeAnyRecord} after the change completed`,
    );
    expect(interrupted).toBeGreaterThanOrEqual(ROUNDS / 6);
    const all = validLog();
    expect(all.filter((c) => c.result === 'interrupted')).toHaveLength(interrupted);
    const notes = all.filter((c) => c.result === 'interrupted').map((c) => c.notes.at(-1)!);
    expect(notes.every((n) => /^process \d+ died before confirming this change; /.test(n))).toBe(true);
  }, 1_800_000);
});
