// `tstop guard` on the real kernel: a process that allocates 48 MiB in a test
// cgroup crosses a 32 MiB rule; the guard freezes it through the limiter
// (audited with via guard and the rule's name) and thaws it after
// thawAfter. The same rule in --dry-run logs the same action and writes nothing.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { limitEnv, TSTOP_BIN } from '../helpers/limit.js';

const isRoot = process.getuid?.() === 0;

/** Whether the memory controller is cgroup v2's (its PSI files exist per cgroup only there). */
function isMemoryV2(): boolean {
  const v1 = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => / - cgroup .*\bmemory\b/.test(l));
  return (
    !v1 &&
    fs.existsSync('/sys/fs/cgroup/cgroup.controllers') &&
    fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').includes('memory')
  );
}

function snapshotOf(id: string): ContainerSnapshot | undefined {
  const collector = new Collector();
  try {
    return collector.collect().containers.find((x) => x.id === id);
  } finally {
    collector.close();
  }
}

describe.runIf(isRoot)('tstop guard on the real kernel', () => {
  let cg: TestCgroups;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    cg = new TestCgroups('guard');
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (cg) await cg.cleanupProcesses('');
    await cg?.cleanup();
  });

  function guard(rulesYaml: string, audit: string, extra: string[] = []): { child: ChildProcess; out: () => string } {
    const file = cg.tmp(`rules-${children.length}.yml`);
    fs.writeFileSync(file, rulesYaml);
    const child = spawn(process.execPath, [TSTOP_BIN, 'guard', '--config', file, '--interval', '200ms', ...extra], {
      env: limitEnv(cg, audit),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let text = '';
    child.stdout!.on('data', (b: Buffer) => (text += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (text += b.toString()));
    return { child, out: () => text };
  }

  const exited = (child: ChildProcess): Promise<number | null> =>
    new Promise((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
    );

  const rule = (name: string, id: string): string => `rules:
  - name: ${name}
    match: "${id}"
    when: memory.usageBytes > 32MiB
    for: 1s
    action: freeze
    thawAfter: 3s
    allowSystem: true
`;

  it('freezes a cgroup that stays above the line, audits it as the rule, thaws it after thawAfter', async () => {
    const id = cg.mkdir('hog');
    const w = cg.spawn('hog', ['alloc', '48']);
    await w.ready;
    const audit = cg.tmp('audit-real.jsonl');
    const g = guard(rule('mem-hog', id), audit);
    await waitFor('the guard to freeze the hog', () => snapshotOf(id)?.freezer === 'frozen', 20_000, 100);
    // The change is audited as applied once the write returned: the kernel may show it frozen a moment before.
    type Audited = { via: string; rule?: string; action: string; result: string; container: { id: string } };
    const appliedFreeze = (): Audited | undefined =>
      (fs.existsSync(audit) ? fs.readFileSync(audit, 'utf8') : '')
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Audited)
        .find((r) => r.action === 'freeze' && r.result === 'applied');
    const freeze = await waitFor('the freeze audited as applied', appliedFreeze, 10_000, 50);
    expect(freeze).toMatchObject({ via: 'guard', rule: 'mem-hog', container: { id } });
    // The log line is written after the change is audited: it may arrive a moment later.
    const line = new RegExp(`rule mem-hog: freeze \\S+ \\(${id}\\): memory\\.usageBytes=\\d+, held \\d`);
    await waitFor('the guard log line', () => line.test(g.out()), 10_000, 50);
    // usage is still above the line, but thawAfter thaws it and the cooldown (1 min) keeps it thawed
    await waitFor('the thaw after 3 s', () => snapshotOf(id)?.freezer === 'thawed', 20_000, 100);
    g.child.kill('SIGTERM');
    expect(await exited(g.child)).toBe(0);
  });

  it('kill SIGKILL: every process of the matching cgroup is killed, audited as the rule', async () => {
    const id = cg.mkdir('killme');
    const w = cg.spawn('killme', ['alloc', '48']);
    await w.ready;
    const audit = cg.tmp('audit-kill.jsonl');
    const g = guard(
      `rules:
  - name: killer
    match: "${id}"
    when: memory.usageBytes > 32MiB
    for: 500ms
    action: kill SIGKILL
    allowSystem: true
`,
      audit,
    );
    await waitFor('the guard to kill the process', () => cg.pids('killme').length === 0, 20_000, 100);
    await waitFor(
      'the kill in the audit log',
      () => fs.existsSync(audit) && /"action":"kill"/.test(fs.readFileSync(audit, 'utf8')),
      10_000,
      50,
    );
    const kill = fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { via: string; rule?: string; action: string; signal?: string })
      .find((r) => r.action === 'kill');
    expect(kill).toMatchObject({ via: 'guard', rule: 'killer', signal: 'SIGKILL' });
    g.child.kill('SIGTERM');
    expect(await exited(g.child)).toBe(0);
  });

  it('in a dry run logs the same action with its values and writes nothing', async () => {
    const id = cg.mkdir('dry');
    const w = cg.spawn('dry', ['alloc', '48']);
    await w.ready;
    const audit = cg.tmp('audit-dry.jsonl');
    const g = guard(rule('dry-hog', id), audit, ['--dry-run']);
    await waitFor(
      'the dry-run line',
      () => /rule dry-hog: freeze .*\[dry run: nothing written\]/.test(g.out()),
      20_000,
      100,
    );
    expect(g.out()).toMatch(/memory\.usageBytes=(\d+)/);
    const usage = Number(/memory\.usageBytes=(\d+)/.exec(g.out())![1]);
    expect(usage).toBeGreaterThan(32 * 1024 * 1024);
    expect(snapshotOf(id)?.freezer).toBe('thawed');
    expect(fs.existsSync(audit)).toBe(false);
    g.child.kill('SIGTERM');
    expect(await exited(g.child)).toBe(0);
  });

  // Memory PSI needs the memory controller on cgroup v2 (the v2 lane): a small memory.high
  // throttles a process allocating past it (no swap to reclaim its pages into), and the time
  // it stalls is memory pressure.
  it.runIf(isRoot && isMemoryV2())(
    'freezes a cgroup thrashing under a small memory.high on its memory PSI',
    async () => {
      const id = cg.mkdir('thrash');
      cg.write('memory', 'thrash', 'memory.high', String(16 * 1024 * 1024));
      cg.spawn('thrash', ['alloc', '64']); // never ready: the allocation stalls at memory.high
      const audit = cg.tmp('audit-psi.jsonl');
      const g = guard(
        `rules:
  - name: thrash
    match: "${id}"
    when: pressure.memory.some.avg10 > 5%
    for: 1s
    action: freeze
    allowSystem: true
`,
        audit,
      );
      await waitFor(
        'the guard to freeze the thrashing cgroup',
        () => snapshotOf(id)?.freezer === 'frozen',
        60_000,
        200,
      );
      await waitFor(
        'the guard log line',
        () => /rule thrash: freeze \S+ .*pressure\.memory\.some\.avg10=\d/.test(g.out()),
        10_000,
        50,
      );
      g.child.kill('SIGTERM');
      expect(await exited(g.child)).toBe(0);
      cg.write('memory', 'thrash', 'cgroup.freeze', '0');
    },
  );

  it('refuses a rules file with a mistake, naming the line, before doing anything', async () => {
    const g = guard(rule('bad', '/nowhere').replace('32MiB', '32QiB'), cg.tmp('audit-bad.jsonl'));
    expect(await exited(g.child)).toBe(2);
    expect(g.out()).toMatch(/rules-\d+\.yml:4: .*unknown unit/);
  });
});
