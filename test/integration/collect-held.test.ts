// Held files (files.ts, heldFile): v1 cpu.stat is not read while the cgroup
// has no CFS quota, v1 freezer.state is not read while it says THAWED, until
// a write that can change them (cpu.cfs_quota_us; freezer.state in the
// cgroup or above it) is seen; then the next tick reads them. The values
// must always be those a full read gives.
//
// The collector sees only this test's cgroups (a root whose cgroup mounts
// are links to the test's "view" cgroup), so other sessions' cgroups on a
// shared host neither slow it down nor take the inotify watches it needs.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredFiles } from '../../src/cgroupfs/files.js';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { cpuQuota, freeze } from '../helpers/kernel.js';

function byId(s: Snapshot, id: string): ContainerSnapshot {
  const c = s.containers.find((x) => x.id === id);
  if (!c) throw new Error(`${id} not in the snapshot`);
  return c;
}

/** A root whose cgroup mount points link to the test's cgroup `rel` in each hierarchy. */
function viewRoot(cg: TestCgroups, rel: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-test-held-root-'));
  fs.symlinkSync('/proc', path.join(root, 'proc'));
  for (const h of cg.mounts.hierarchies) {
    const link = path.join(root, h.mountPoint);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    const target = cg.dir(h, rel);
    if (fs.existsSync(target)) fs.symlinkSync(target, link);
    else fs.mkdirSync(link); // a hierarchy the test does not create cgroups in: empty
  }
  return root;
}

describe('held files: v1 cpu.stat without a quota, v1 freezer.state while THAWED', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;
  let root: string;
  const v1 = (controller: string): boolean => cg.hierarchyOf(controller).kind === 'v1';

  /** The files read for one cgroup (its path relative to the view) in one tick, and the tick's snapshot. */
  function traced(rel: string, tick = () => collector.collect()): { snapshot: Snapshot; files: string[] } {
    const files: string[] = [];
    const suffix = '/' + rel + '/';
    collector.tree.reader.trace = (p) => {
      if (p.endsWith(suffix + path.basename(p))) files.push(path.basename(p));
    };
    try {
      return { snapshot: tick(), files };
    } finally {
      collector.tree.reader.trace = null;
    }
  }

  /** The same cgroup in a tick that reads every file (nothing from kept bytes). */
  function full(id: string): ContainerSnapshot {
    collector.tree.gateIdle = false;
    try {
      return byId(collector.collect(), id);
    } finally {
      collector.tree.gateIdle = true;
    }
  }

  /** Ticks until every directory of the view has its inotify watch (writes are then seen). */
  function settle(): void {
    const watched = (): boolean =>
      [...collector.tree.nodes.values()].every((n) => n.dirs.every((d, h) => d === null || n.dirWatched[h] === 1));
    for (let i = 0; i < 5 && !watched(); i++) collector.collect();
    expect(watched(), 'a directory without an inotify watch (ENOSPC?)').toBe(true);
    collector.collect();
  }

  beforeAll(() => {
    cg = new TestCgroups('held');
    for (const rel of ['view/q', 'view/p/c', 'view/p/c/d']) cg.mkdir(rel);
    root = viewRoot(cg, 'view');
    collector = new Collector({ watch: true, root });
  });

  afterAll(async () => {
    collector?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
    await cg?.cleanup();
  });

  it('reads v1 cpu.stat only while a quota is set, and on the tick after the quota is written', async (ctx) => {
    if (!v1('cpu') || !collector.tree.reader.batching) ctx.skip();
    settle();
    // No quota: the throttling counters cannot move, cpu.stat is not read.
    let t = traced('q');
    expect(t.files).not.toContain('cpu.stat');
    expect(t.files).toContain(registeredFiles().find((f) => f.kind === 'gate' && f.hierarchy === 'cpuacct')!.name);
    expect(byId(t.snapshot, '/q').cpu?.periods).toBe(0);

    // A quota written by someone else (not through tstop) and a busy loop under it.
    cpuQuota(cg, 'view/q', 0.2);
    t = traced('q');
    expect(t.files).toContain('cpu.stat');
    await cg.spawn('view/q', ['spin']).ready;
    const throttled = await waitFor(
      'the busy loop to be throttled',
      () => {
        const c = byId(collector.collect(), '/q').cpu;
        return c && (c.throttledPeriods ?? 0) > 0 ? c : null;
      },
      30_000,
      200,
    );
    expect(throttled.periods).toBeGreaterThan(0);
    expect(traced('q').files).toContain('cpu.stat'); // read every tick while a quota is set

    // The quota removed: the write settles the counters, the next tick reads them once, then they stand.
    cg.write('cpu', 'view/q', 'cpu.cfs_quota_us', '-1');
    t = traced('q');
    expect(t.files).toContain('cpu.stat');
    const settled = byId(t.snapshot, '/q').cpu!;
    expect(settled.quotaMicroseconds).toBeNull();
    expect(settled.periods).toBeGreaterThanOrEqual(throttled.periods!);
    t = traced('q');
    expect(t.files).not.toContain('cpu.stat');
    expect(byId(t.snapshot, '/q').cpu?.periods).toBe(settled.periods);
    expect(byId(t.snapshot, '/q').cpu?.throttledSeconds).toBe(settled.throttledSeconds);
    const reference = full('/q').cpu!;
    expect([reference.periods, reference.throttledPeriods, reference.throttledSeconds]).toEqual([
      settled.periods,
      settled.throttledPeriods,
      settled.throttledSeconds,
    ]);
    await cg.cleanupProcesses('view/q');
  });

  it('reads v1 freezer.state while THAWED only after a freeze in the cgroup or above it', (ctx) => {
    if (!v1('freezer') || !collector.tree.reader.batching) ctx.skip();
    settle();
    const d = '/p/c/d';
    let t = traced('p/c/d');
    expect(t.files).not.toContain('freezer.state');
    expect(byId(t.snapshot, d).freezer).toBe('thawed');

    // Frozen two levels up: the write is on p's file, not on d's.
    freeze(cg, 'view/p', true);
    t = traced('p/c/d');
    expect(t.files).toContain('freezer.state');
    expect(byId(t.snapshot, d).freezer).toBe('frozen'); // empty cgroups freeze at once
    expect(byId(t.snapshot, '/p/c').freezer).toBe('frozen');
    // Not THAWED: read every tick (FREEZING turns FROZEN, and a task moving in turns it back, without a write).
    expect(traced('p/c/d').files).toContain('freezer.state');

    freeze(cg, 'view/p', false);
    t = traced('p/c/d');
    expect(t.files).toContain('freezer.state');
    expect(byId(t.snapshot, d).freezer).toBe('thawed');
    t = traced('p/c/d');
    expect(t.files).not.toContain('freezer.state');
    expect(full(d).freezer).toBe('thawed');

    // Its own write is seen too.
    freeze(cg, 'view/p/c/d', true);
    expect(byId(collector.collect(), d).freezer).toBe('frozen');
    freeze(cg, 'view/p/c/d', false);
    expect(byId(collector.collect(), d).freezer).toBe('thawed');
  });

  it('sees a freeze above the top of its tree (no inotify there) through the top, read every tick, one tick later', (ctx) => {
    if (!v1('freezer') || !collector.tree.reader.batching) ctx.skip();
    settle();
    expect(traced('q').files).not.toContain('freezer.state');
    // "view" is the top of the collector's tree; its parent is outside it.
    freeze(cg, '', true);
    try {
      const first = collector.collect();
      expect(byId(first, '/').freezer).toBe('frozen');
      const next = collector.collect();
      for (const id of ['/', '/q', '/p', '/p/c', '/p/c/d']) expect(byId(next, id).freezer, id).toBe('frozen');
    } finally {
      freeze(cg, '', false);
    }
    collector.collect();
    const thawed = collector.collect();
    for (const id of ['/', '/q', '/p/c/d']) expect(byId(thawed, id).freezer, id).toBe('thawed');
  });
});
