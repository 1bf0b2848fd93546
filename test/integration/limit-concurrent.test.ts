// Two on-call engineers at once (issue 11, item 2): two `tstop limit`
// processes started together on one cgroup with different values, 50 times.
// Changes to one cgroup are serialized by its lock (src/limiter/lock.ts), so
// afterwards the kernel's value is the one of the last 'applied' record in
// the audit log, every round, and a process that did not apply says why.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { parseAuditText } from '../../src/limiter/audit.js';
import { readNoFollow } from '../../src/limiter/cgroup.js';
import { ChangeLocks } from '../../src/limiter/lock.js';
import { semanticsOf } from '../../src/limiter/values.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { limitEnv, runTstop, startTstop } from '../helpers/limit.js';

const isRoot = process.getuid?.() === 0;
// Fewer in the emulated v2 lane (5-minute budget, node starts take seconds there).
const ROUNDS = process.env.TSTOP_TEST_LANE === 'v2' ? 5 : 50;

describe.runIf(isRoot)('two concurrent changes to one cgroup', () => {
  let cg: TestCgroups;
  let audit: string;
  let env: NodeJS.ProcessEnv;
  let id: string;

  beforeAll(async () => {
    cg = new TestCgroups('concurrent');
    id = cg.mkdir('c');
    await cg.spawn('c', ['sleep']).ready;
    audit = cg.tmp('audit.jsonl');
    // A pause between writes keeps the first change's writes spread out, so the two overlap.
    env = limitEnv(cg, audit, { TSTOP_LIMIT_TEST_PAUSE_MS: '20' });
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  /** The records of the log in file order, every line (not only each change's last state). */
  function logLines(): ChangeRecord[] {
    const parsed = parseAuditText(fs.readFileSync(audit, 'utf8'));
    expect(parsed.tornBytes).toBe(0);
    expect(parsed.badLines).toEqual([]);
    return parsed.lines.filter((l): l is ChangeRecord => l.type === 'change');
  }

  /** Every file any applied record wrote holds the new value of the last applied record that wrote it. */
  function kernelMatchesLastApplied(lines: ChangeRecord[]): void {
    const expected = new Map<string, string>();
    for (const r of lines) if (r.result === 'applied') for (const w of r.writes) expected.set(w.path, w.newValue);
    for (const [file, value] of expected) {
      const sem = semanticsOf(path.basename(file));
      const current = sem.current(readNoFollow(file) ?? '', value);
      if (!sem.satisfies(current, value))
        throw new Error(
          `${file} holds ${JSON.stringify(current)}, the last applied record says ${JSON.stringify(value)}`,
        );
    }
  }

  it(`the kernel equals the last applied record after each of ${ROUNDS} rounds, and the loser says why`, async () => {
    const why =
      /another change is in progress|changed since the change was planned \(by change [0-9a-f]{12} of pid \d+/;
    let losers = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Different values every round, so both always have something to write.
      const a = ['limit', id, '--memory', `${100 + 2 * round}m`, '--cpus', round % 2 ? '0.5' : '0.6', '--allow-system'];
      const b = ['limit', id, '--memory', `${101 + 2 * round}m`, '--pids-limit', `${50 + round}`, '--allow-system'];
      const [ra, rb] = await Promise.all([runTstop(a, env), runTstop(b, env)]);
      for (const r of [ra, rb]) {
        if (r.code === 0) {
          expect(r.stdout).toMatch(/^applied to .*: change [0-9a-f]{12}\n/);
        } else {
          losers++;
          expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(why)]);
        }
      }
      const lines = logLines();
      expect(lines.filter((l) => l.result === 'rolled-back' || l.result === 'interrupted')).toEqual([]);
      const last = new Map(lines.map((l) => [l.id, l.result]));
      expect([...last.values()].filter((r) => r === 'pending')).toEqual([]);
      kernelMatchesLastApplied(lines);
    }
    console.info(`${ROUNDS} rounds of two concurrent changes: ${losers} lost (and said why), the rest applied in turn`);
    expect(losers).toBeGreaterThan(0);
  }, 600_000);

  it('a change gives up after --lock-timeout while another holds the lock, naming it', async () => {
    const locks = new ChangeLocks(audit);
    const held = await locks.acquire(id, { id: 'abcdef012345', action: 'limit' });
    try {
      const before = fs.readFileSync(audit, 'utf8');
      const r = await runTstop(['limit', id, '--pids-limit', '77', '--allow-system', '--lock-timeout', '1s'], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        new RegExp(
          `^tstop: limit: another change is in progress on ${id} \\(change abcdef012345, pid ${process.pid}, limit since [^)]+\\); waited \\d+\\.\\d s \\(--lock-timeout\\); nothing was changed\\n$`,
        ),
      );
      expect(fs.readFileSync(audit, 'utf8')).toBe(before);
      expect(cg.read('pids', 'c', 'pids.max').trim()).not.toBe('77');
    } finally {
      held.release();
    }
    const r = await runTstop(['limit', id, '--pids-limit', '77', '--allow-system', '--lock-timeout', '1s'], env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(cg.read('pids', 'c', 'pids.max').trim()).toBe('77');
  });

  it('a rollback leaves alone a file someone else wrote since, and restores the rest', async () => {
    // The other writer is this test (as docker update would be: it takes no lock). It overwrites the
    // first file tstop wrote; tstop's read-back then fails and it rolls back.
    const rel = 'rb';
    const cgId = cg.mkdir(rel);
    const memDir = cg.controllerDir('memory', rel);
    const memFile = ['memory.limit_in_bytes', 'memory.max']
      .map((f) => path.join(memDir, f))
      .find((f) => fs.existsSync(f))!;
    const pidsFile = path.join(cg.controllerDir('pids', rel), 'pids.max');
    const memBefore = fs.readFileSync(memFile, 'utf8').trim();
    const pidsBefore = fs.readFileSync(pidsFile, 'utf8').trim();
    const ours = { [memFile]: String(100 * 1024 * 1024), [pidsFile]: '50' };
    const theirs = { [memFile]: String(120 * 1024 * 1024), [pidsFile]: '60' };
    const child = startTstop(
      ['limit', cgId, '--memory', '100m', '--pids-limit', '50', '--allow-system'],
      limitEnv(cg, audit, { TSTOP_LIMIT_TEST_PAUSE_MS: '1500' }),
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
    const first = await waitFor(
      'tstop to write its first file',
      () => [memFile, pidsFile].find((f) => fs.readFileSync(f, 'utf8').trim() === ours[f]),
      20_000,
      5,
    );
    const second = first === memFile ? pidsFile : memFile;
    fs.writeFileSync(first, theirs[first]);
    expect(await exited).toBe(1);
    expect(stderr).toContain(
      `${first}: left alone, it holds ${JSON.stringify(theirs[first])} written by someone else since, not this change's ${JSON.stringify(ours[first])}`,
    );
    expect(fs.readFileSync(first, 'utf8').trim()).toBe(theirs[first]);
    expect(fs.readFileSync(second, 'utf8').trim()).toBe(second === memFile ? memBefore : pidsBefore);
    const last = logLines().at(-1)!;
    expect([last.container.id, last.result]).toEqual([cgId, 'rolled-back']);
  });
});
