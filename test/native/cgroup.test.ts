// Cgroup placement. Every cgroup used here is created by this file under
// /sys/fs/cgroup/<hierarchy>/tstop-test-<pid>/ and removed in afterAll,
// after the processes in it have exited. No other cgroup is written.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTAINER_NS,
  TestCgroups,
  ensureHelper,
  execSpec,
  isRoot,
  readProc,
  runHelper,
  runSpec,
  startHelper,
  waitFor,
  type RunningHelper,
} from './harness.js';

const cg = new TestCgroups();
const V1 = ['memory', 'pids'].filter((h) => isRoot && cg.available(h));
const V2 = isRoot && cg.available('unified') ? 'unified' : undefined;
const procs = (dir: string): string => join(dir, 'cgroup.procs');

/** "hierarchy-id:controllers:path" lines of /proc/<pid>/cgroup by controller ("" for v2). */
function cgroupsOf(pid: number | string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readProc(`/proc/${pid}/cgroup`).trim().split('\n')) {
    const [, ctrl, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (ctrl !== undefined) m.set(ctrl, path);
  }
  return m;
}

describe.skipIf(!isRoot || V1.length === 0 || !V2)('tstop-helper: cgroup placement', () => {
  const running: RunningHelper[] = [];
  const rel = (name: string): string => `/${cg.parentName}/${name}`;

  beforeAll(() => ensureHelper());
  afterAll(async () => {
    try {
      for (const h of running) h.child.kill('SIGKILL');
      await Promise.all(running.map((h) => h.done));
    } finally {
      await cg.cleanup();
    }
  });

  it('starts the workload in v1 cgroups and, via CLONE_INTO_CGROUP, in the v2 cgroup', async () => {
    const dirs = [...V1.map((h) => cg.create(h, 'c1')), cg.create(V2 ?? '', 'c1')];
    const h = startHelper(
      runSpec({ cgroupProcs: dirs.map(procs), argv: ['sh', '-c', 'cat /proc/self/cgroup; sleep 30'] }),
    );
    running.push(h);
    const pid = await h.pid;
    const seen = cgroupsOf(pid);
    for (const ctrl of V1) expect(seen.get(ctrl)).toBe(rel('c1'));
    expect(seen.get('')).toBe(rel('c1'));
    for (const d of dirs) expect(cg.procs(d)).toContain(pid);
    // The helper itself stays outside every container cgroup (a placer
    // process joined the v1 ones; the v2 one is entered by CLONE_INTO_CGROUP).
    const helperPid = h.child.pid ?? -1;
    for (const d of dirs) expect(cg.procs(d)).not.toContain(helperPid);
    expect(readProc(`/proc/${pid}/status`)).toMatch(new RegExp(`^PPid:\\s+${helperPid}$`, 'm'));
    // Inside, the cgroup namespace is rooted at those cgroups.
    const inside = await waitFor(() => (h.stdout().includes('0::') ? h.stdout() : undefined));
    for (const line of inside.trim().split('\n')) expect(line).toMatch(/:\/$/);
  });

  it('falls back to writing cgroup.procs for v2 when clone3 placement is off', async () => {
    const dir = cg.create(V2 ?? '', 'c2');
    const h = startHelper(runSpec({ cgroupClone: false, cgroupProcs: [procs(dir)], argv: ['sleep', '30'] }));
    running.push(h);
    const pid = await h.pid;
    expect(cgroupsOf(pid).get('')).toBe(rel('c2'));
    expect(cg.procs(dir)).toEqual([pid]); // placed by the placer; the helper stays outside
  });

  it('places the workload by cgroup.procs on kernels without clone3', async () => {
    const dir = cg.create(V2 ?? '', 'c5');
    const h = startHelper(runSpec({ cgroupProcs: [procs(dir)], argv: ['sleep', '30'] }), {
      env: { TSTOP_HELPER_NO_CLONE3: '1' },
    });
    running.push(h);
    const pid = await h.pid;
    expect(cgroupsOf(pid).get('')).toBe(rel('c5'));
    expect(cg.procs(dir)).toEqual([pid]);
  });

  it('enforces the limits of the cgroup it was placed in (pids.max)', async () => {
    if (!V1.includes('pids')) return;
    const dir = cg.create('pids', 'c3');
    writeFileSync(join(dir, 'pids.max'), '3'); // our own test cgroup
    const r = await runHelper(
      runSpec({ cgroupProcs: [procs(dir)], argv: ['sh', '-c', 'for i in 1 2 3 4 5; do sleep 5 & done; exit 0'] }),
    );
    // sh + sleeps <= 3 (the helper is outside): forks past the limit fail, and the
    // cgroup counts the refusals (dash gives up with exit 2).
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/fork/i);
    expect(Number(/^max (\d+)/m.exec(readProc(join(dir, 'pids.events')))?.[1])).toBeGreaterThan(0);
  });

  it('exec mode joins the cgroups it is given before entering', async () => {
    const dir = cg.create(V1[0], 'c4');
    const target = startHelper(runSpec({ namespaces: CONTAINER_NS, argv: ['sleep', '30'] }));
    running.push(target);
    const targetPid = await target.pid;
    const e = startHelper(execSpec(targetPid, { cgroupProcs: [procs(dir)], argv: ['sleep', '30'] }));
    running.push(e);
    const execPid = await e.pid;
    expect(cgroupsOf(execPid).get(V1[0])).toBe(rel('c4'));
    expect(cgroupsOf(targetPid).get(V1[0])).not.toBe(rel('c4'));
    expect(cg.procs(dir)).toEqual([execPid]); // the exec helper stays outside too
  });

  it('fails with a clear message when a cgroup cannot be joined', async () => {
    const r = await runHelper(
      runSpec({ cgroupProcs: [`/sys/fs/cgroup/${V1[0]}/${cg.parentName}/missing/cgroup.procs`], argv: ['true'] }),
    );
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(
      /^tstop-helper: join cgroup \(write \d+ to .*missing\/cgroup.procs\): No such file or directory \(ENOENT\)\n$/,
    );
  });
});
