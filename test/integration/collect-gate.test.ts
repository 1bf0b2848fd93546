// Fewer reads per tick: a cgroup whose CPU usage did not move since the last
// tick ran nothing, so its execution-driven counters (pids.peak, memory
// max usage, failcnt, OOM kills, user/system ticks, v1 blkio) are served
// from their last bytes; the others (usage, memory.stat, PSI, pids.current)
// are read every tick. The values must be the ones a full read gives.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredFiles } from '../../src/cgroupfs/files.js';
import { FD_UNOPENED } from '../../src/cgroupfs/reader.js';
import type { CgroupNode } from '../../src/cgroupfs/tree.js';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';

function byId(s: Snapshot, id: string): ContainerSnapshot {
  const c = s.containers.find((x) => x.id === id);
  if (!c) throw new Error(`${id} not in the snapshot`);
  return c;
}

/** The files read for one cgroup during a tick. */
function tracedTick(collector: Collector, dirPart: string): { snapshot: Snapshot; files: string[] } {
  const files: string[] = [];
  collector.tree.reader.trace = (p) => {
    if (p.includes(dirPart + '/')) files.push(p.slice(p.lastIndexOf('/') + 1));
  };
  try {
    return { snapshot: collector.collect(), files };
  } finally {
    collector.tree.reader.trace = null;
  }
}

describe('idle cgroups: execution-driven counters from their last bytes', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;
  let idle: string;
  let busy: string;

  beforeAll(async () => {
    cg = new TestCgroups('gate');
    idle = cg.mkdir('idle');
    busy = cg.mkdir('busy');
    await cg.spawn('idle', ['sleep']).ready;
    collector = new Collector({ watch: true });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  const node = (): CgroupNode => collector.tree.nodes.get(idle)!;

  it('does not read them for a sleeping cgroup, and gives the same values as a full read', () => {
    for (let i = 0; i < 3; i++) collector.collect();
    const { snapshot, files } = tracedTick(collector, `${cg.name}/idle`);
    // Gating needs the gate on a kept-open, batched descriptor: not without the native batch,
    // nor past the descriptor budget (other 1,000-cgroup benchmarks running on the host).
    const gate = registeredFiles().find((f) => f.kind === 'gate' && collector.tree.has(node(), f));
    if (!gate || node().batchPositions[gate.slot] < 0) return;
    expect(files).toContain('pids.current');
    // The gate file is read once a tick (by the gate call), not again in the batch.
    expect(files.filter((f) => f === gate.name)).toHaveLength(1);
    expect(files).not.toContain('pids.peak');
    expect(files).not.toContain('pids.events');
    if (!cg.v2) {
      expect(files).toContain('memory.usage_in_bytes');
      expect(files).toContain('memory.stat');
      expect(files).not.toContain('memory.max_usage_in_bytes');
      expect(files).not.toContain('memory.failcnt');
      expect(files).not.toContain('cpuacct.stat');
    }
    const gated = byId(snapshot, idle);
    collector.tree.gateIdle = false;
    const full = byId(collector.collect(), idle);
    collector.tree.gateIdle = true;
    expect(gated.pids).toEqual(full.pids);
    expect(gated.memory?.maxUsageBytes).toBe(full.memory?.maxUsageBytes);
    expect(gated.memory?.failcnt).toBe(full.memory?.failcnt);
    expect(gated.memory?.oomKills).toBe(full.memory?.oomKills);
    expect(gated.cpu?.userSeconds).toBe(full.cpu?.userSeconds);
    expect(gated.cpu?.systemSeconds).toBe(full.cpu?.systemSeconds);
  });

  it('gives back the descriptors of a cgroup idle for a few ticks, and reads its files again when it runs', async () => {
    const waking = cg.mkdir('waking');
    for (let i = 0; i < 6; i++) collector.collect();
    const wakingNode = collector.tree.nodes.get(waking)!;
    const gate = registeredFiles().find((f) => f.kind === 'gate' && collector.tree.has(wakingNode, f));
    if (!gate || wakingNode.batchPositions[gate.slot] < 0) return; // no batch, or past the budget: nothing gated
    const execution = registeredFiles().filter((f) => f.kind === 'execution' && collector.tree.has(wakingNode, f));
    expect(execution.length).toBeGreaterThan(0);
    const kept = execution.filter((f) => wakingNode.keptLength[f.slot] >= 0);
    if (!cg.v2) expect(kept.length).toBeGreaterThan(0); // v1 blkio, memory, pids, cpuacct.stat

    for (const f of kept) {
      expect(wakingNode.fds[f.slot], f.name).toBeLessThan(0);
      expect(wakingNode.batchPositions[f.slot], f.name).toBe(-1);
    }
    const before = byId(collector.collect(), waking);
    // It runs: 64 MiB charged and 10 forks, then it sleeps (the values stand still for the comparison).
    await cg.spawn('waking', ['alloc', '64']).ready;
    await cg.spawn('waking', ['fork', '10']).ready;
    await cg.settled('waking');
    const woken = byId(collector.collect(), waking);
    collector.tree.gateIdle = false;
    const full = byId(collector.collect(), waking);
    collector.tree.gateIdle = true;
    // pids.peak and memory.peak are missing on older v2 kernels.
    if (full.pids?.peak != null) {
      expect(woken.pids?.peak).toBeGreaterThanOrEqual(12);
      expect(woken.pids?.peak).toBeGreaterThan(before.pids?.peak ?? 0);
    }
    expect(woken.pids).toEqual(full.pids);
    if (full.memory?.maxUsageBytes != null)
      expect(woken.memory?.maxUsageBytes).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(woken.memory?.maxUsageBytes).toBe(full.memory?.maxUsageBytes);
    expect(woken.memory?.failcnt).toBe(full.memory?.failcnt);
    expect(woken.memory?.oomKills).toBe(full.memory?.oomKills);
    expect(woken.cpu?.userSeconds).toBe(full.cpu?.userSeconds);
    expect(woken.cpu?.systemSeconds).toBe(full.cpu?.systemSeconds);
    expect(woken.io).toEqual(full.io);
    // Running, its files are opened again (kept open, or open-read-close when other
    // benchmarks' cgroups on the host have spent the descriptor budget).
    for (const f of kept) expect(wakingNode.fds[f.slot], f.name).not.toBe(FD_UNOPENED);
  });

  it('reads them on the tick after the cgroup ran: a fork burst shows in pids.peak', async () => {
    collector.collect();
    const before = byId(collector.collect(), busy).pids?.peak ?? 0;
    await cg.spawn('busy', ['fork', '20']).ready; // 20 children alive, then ready
    const peak = await waitFor(
      'pids.peak to show the burst',
      () => {
        const p = byId(collector.collect(), busy).pids?.peak ?? null;
        return p !== null && p >= 21 ? p : null;
      },
      120_000,
    );
    expect(peak).toBeGreaterThan(before);
    const { files } = tracedTick(collector, `${cg.name}/busy`);
    expect(files).toContain('pids.current');
  });
});

describe('empty cgroups: PSI at rest from its last bytes', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;
  let empty: string;
  const PSI = ['cpu.pressure', 'memory.pressure', 'io.pressure'];

  beforeAll(() => {
    cg = new TestCgroups('rest');
    empty = cg.mkdir('empty');
    collector = new Collector({ watch: true });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  /** Whether this host can serve PSI at rest: a v2 cgroup.events watched for the test cgroup. */
  const watched = (): boolean => collector.tree.populationWatched(collector.tree.nodes.get(empty)!);

  it('does not read the PSI of a cgroup that stayed empty, and gives the same values as a full read', () => {
    for (let i = 0; i < 3; i++) collector.collect();
    if (!watched()) return; // no cgroup v2 tree, or no inotify: PSI is read every tick
    const { snapshot, files } = tracedTick(collector, `${cg.name}/empty`);
    expect(files).not.toContain('cgroup.events'); // watched, and no notification since its last read
    for (const f of PSI) expect(files).not.toContain(f);
    const rested = byId(snapshot, empty);
    expect(rested.pressure?.cpu?.some?.avg10).toBe(0);
    collector.tree.gateIdle = false;
    const full = byId(collector.collect(), empty);
    collector.tree.gateIdle = true;
    expect(rested.pressure).toEqual(full.pressure);
  });

  it('reads it again after tasks came and went between two ticks (cgroup.events changed twice)', async () => {
    collector.collect();
    if (!watched()) return;
    const before = byId(collector.collect(), empty);
    expect(before.populated).toBe(false);
    // Three spinners on a two-core host stall each other (CPU pressure), then leave before the next tick.
    const spinners = [0, 1, 2].map(() => cg.spawn('empty', ['spin']));
    await Promise.all(spinners.map((s) => s.ready));
    await new Promise((r) => setTimeout(r, 300));
    await cg.cleanupProcesses('empty');
    await waitFor('the cgroup to be empty again', () => (cg.read('cpu', 'empty', 'cgroup.procs') === '' ? true : null));
    const { snapshot, files } = tracedTick(collector, `${cg.name}/empty`);
    const after = byId(snapshot, empty);
    expect(after.populated).toBe(false);
    for (const f of PSI) expect(files).toContain(f);
    collector.tree.gateIdle = false;
    const full = byId(collector.collect(), empty);
    collector.tree.gateIdle = true;
    // Totals cannot move without tasks; the averages may decay between the two reads.
    for (const r of ['cpu', 'memory', 'io'] as const) {
      expect(after.pressure?.[r]?.some?.totalSeconds).toBe(full.pressure?.[r]?.some?.totalSeconds);
      expect(after.pressure?.[r]?.full?.totalSeconds).toBe(full.pressure?.[r]?.full?.totalSeconds);
    }
    expect(after.pressure?.cpu?.some?.totalSeconds).toBeGreaterThanOrEqual(
      before.pressure?.cpu?.some?.totalSeconds ?? 0,
    );
  });
});

describe(
  'files that change only when written: cgroup.freeze from its last bytes until a write',
  { timeout: 300_000 },
  () => {
    let cg: TestCgroups;
    let collector: Collector;
    let id: string;

    beforeAll(() => {
      cg = new TestCgroups('written');
      id = cg.mkdir('f');
      collector = new Collector({ watch: true });
    });

    afterAll(async () => {
      collector?.close();
      await cg?.cleanup();
    });

    it('reads cgroup.freeze only on the tick after a write, and shows the state a full read shows', () => {
      for (let i = 0; i < 3; i++) collector.collect();
      const freeze = registeredFiles().find((f) => f.name === 'cgroup.freeze')!;
      const node = collector.tree.nodes.get(id)!;
      if (!collector.tree.has(node, freeze) || !node.watched[freeze.slot]) return; // no v2 tree or no inotify
      const unified = cg.hierarchies.find((h) => h.kind === 'v2')!;
      const write = (v: string): void => fs.writeFileSync(path.join(cg.dir(unified, 'f'), 'cgroup.freeze'), v);
      const full = (): ContainerSnapshot => {
        collector.tree.gateIdle = false;
        try {
          return byId(collector.collect(), id);
        } finally {
          collector.tree.gateIdle = true;
        }
      };
      let t = tracedTick(collector, `${cg.name}/f`);
      expect(t.files).not.toContain('cgroup.freeze');
      expect(byId(t.snapshot, id).freezer).toBe('thawed');
      write('1');
      t = tracedTick(collector, `${cg.name}/f`);
      expect(t.files).toContain('cgroup.freeze');
      expect(byId(t.snapshot, id).freezer).toBe('frozen'); // an empty cgroup is frozen at once
      expect(tracedTick(collector, `${cg.name}/f`).files).not.toContain('cgroup.freeze');
      expect(full().freezer).toBe('frozen');
      collector.collect();
      write('0');
      t = tracedTick(collector, `${cg.name}/f`);
      expect(t.files).toContain('cgroup.freeze');
      expect(byId(t.snapshot, id).freezer).toBe('thawed');
      expect(full().freezer).toBe('thawed');
    });
  },
);
