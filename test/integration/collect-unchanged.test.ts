// Values carried over while their files give the same bytes
// (src/collect/unchanged.ts) must be the values a collection that parses
// every file every tick gives. Two collectors on the same real cgroups, one
// carrying (the default), one not (carryUnchanged: false, gateIdle off: every
// file read and parsed), while real workloads allocate memory, burn CPU,
// fork, exit and get new limits. The workloads are frozen while the two
// collect, so both read the same counters.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import { registeredFiles } from '../../src/cgroupfs/files.js';
import { MUST_READ } from '../../src/cgroupfs/tree.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The cgroups of a snapshot, by id, as plain data. PSI averages decay
 * by themselves every 2 s: their totals are compared (tasks frozen, they stand).
 */
function ours(s: Snapshot): Map<string, ContainerSnapshot> {
  const plain = (c: ContainerSnapshot): ContainerSnapshot => {
    const copy = structuredClone(c);
    for (const r of ['cpu', 'memory', 'io'] as const) {
      for (const line of [copy.pressure?.[r]?.some, copy.pressure?.[r]?.full]) {
        if (line) line.avg10 = line.avg60 = line.avg300 = 0;
      }
    }
    return copy;
  };
  return new Map(s.containers.map((c) => [c.id, plain(c)]));
}

/** Without the rates, which depend on each collector's own tick times. */
function withoutRates(c: ContainerSnapshot): ContainerSnapshot {
  const cpu = c.cpu && { ...c.cpu, percent: 0, quotaPercent: 0 };
  const io = c.io && {
    ...c.io,
    readBytesPerSecond: 0,
    writeBytesPerSecond: 0,
    devices: c.io.devices.map((d) => ({
      ...d,
      readBytesPerSecond: 0,
      writeBytesPerSecond: 0,
      readOpsPerSecond: 0,
      writeOpsPerSecond: 0,
    })),
  };
  return { ...c, cpu, io };
}

describe('unchanged values carried over', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let carrying: Collector;
  let reading: Collector;
  const names = ['spin', 'alloc', 'forks', 'idle', 'empty', 'parent', 'parent/child'];

  /** Stops (true) or resumes the workloads: v1 freezer, or v2 cgroup.freeze. */
  const freeze = async (on: boolean): Promise<void> => {
    for (const rel of ['spin', 'alloc', 'forks', 'idle', 'parent']) {
      if (cg.v2) cg.write('cpu', rel, 'cgroup.freeze', on ? '1' : '0');
      else cg.write('freezer', rel, 'freezer.state', on ? 'FROZEN' : 'THAWED');
    }
    if (!on) return;
    await waitFor('the workloads to be frozen', () =>
      ['spin', 'alloc', 'forks', 'idle', 'parent'].every((rel) =>
        cg.v2
          ? cg.read('cpu', rel, 'cgroup.events').includes('frozen 1')
          : cg.read('freezer', rel, 'freezer.state') === 'FROZEN',
      ),
    );
  };

  beforeAll(async () => {
    cg = new TestCgroups('unchanged');
    for (const n of names) cg.mkdir(n, { inner: n === 'parent' });
    await cg.spawn('spin', ['spin']).ready;
    await cg.spawn('alloc', ['alloc', '32']).ready;
    await cg.spawn('idle', ['sleep']).ready;
    await cg.spawn('parent/child', ['sleep']).ready;
    const root = cg.isolatedRoot();
    // As the exporter collects: containers written into the objects of the snapshot before the last.
    carrying = new Collector({ watch: true, root, reuseContainers: true });
    reading = new Collector({ watch: true, root, carryUnchanged: false });
    reading.tree.gateIdle = false;
  });

  afterAll(async () => {
    if (cg) await freeze(false); // a frozen task cannot be killed
    carrying?.close();
    reading?.close();
    await cg?.cleanup();
  });

  let lastCarried = new Map<string, ContainerSnapshot>();

  /**
   * One tick of both while the workloads are frozen: every value of every
   * test cgroup must agree. The kernel may still move a value by itself (a
   * per-CPU charge cache drained, memory of a killed task freed late): the
   * reading collector reads before and after the carrying one, and a tick in
   * which its two reads differ is tried again.
   */
  const tick = (label: string): void => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = ours(reading.collect());
      const carried = ours(carrying.collect());
      const after = ours(reading.collect());
      const plain = (m: Map<string, ContainerSnapshot>): ContainerSnapshot[] => [...m.values()].map(withoutRates);
      const previous = lastCarried;
      lastCarried = carried;
      if (JSON.stringify(plain(before)) !== JSON.stringify(plain(after))) continue;
      expect([...carried.keys()].sort(), label).toEqual([...after.keys()].sort());
      for (const [id, x] of carried) {
        expect(withoutRates(x), `${label} ${id}`).toEqual(withoutRates(after.get(id)!));
        // Unchanged since its last tick: its rates are those of unchanged counters, not older ones.
        const p = previous.get(id);
        if (p && JSON.stringify(withoutRates(p)) === JSON.stringify(withoutRates(x))) {
          if (x.cpu?.usageSeconds != null) expect(x.cpu.percent, `${label} ${id} cpu %`).toBe(0);
          if (x.io) expect([x.io.readBytesPerSecond, x.io.writeBytesPerSecond], `${label} ${id} io/s`).toEqual([0, 0]);
        }
      }
      return;
    }
    throw new Error(`${label}: the values never stood still for a tick`);
  };

  it('gives what parsing every file gives, while workloads run, fork, exit and get new limits', async () => {
    const carriedBefore = carrying.unchanged!.carried;
    const settingsSkippedBefore = carrying.unchanged!.settingsSkipped;
    const steps: [string, () => Promise<void> | void][] = [
      ['running', () => sleep(200)],
      ['more memory', async () => void (await cg.spawn('alloc', ['alloc', '16']).ready)],
      ['forks', async () => void (await cg.spawn('forks', ['fork', '5']).ready)],
      ['a new limit', () => cg.write('memory', 'alloc', cg.v2 ? 'memory.max' : 'memory.limit_in_bytes', '200000000')],
      // Its memory collector carried, its setting reads skipped while no setting changed (see
      // settingsSure): a limit no other file of the cgroup shows (memory.stat shows the hard one).
      [
        'a new soft limit on an empty cgroup',
        () => cg.write('memory', 'empty', cg.v2 ? 'memory.low' : 'memory.soft_limit_in_bytes', '300000000'),
      ],
      ['a task leaves', () => cg.cleanupProcesses('forks')],
      ['a child empties', () => cg.cleanupProcesses('parent/child')],
      ['an idle cgroup starts a task', async () => void (await cg.spawn('empty', ['sleep']).ready)],
    ];
    for (const [label, step] of steps) {
      await freeze(false);
      await step();
      await sleep(150);
      await freeze(true);
      await sleep(50);
      for (let t = 0; t < 5; t++) tick(`${label}, tick ${t}`); // stable from the second tick on, carried from the third
    }
    // The carrying collector did carry (the test is not vacuous).
    expect(carrying.unchanged!.carried).toBeGreaterThan(carriedBefore + 100);
    // ... and left most setting reads out of its check (no setting changed since its last tick).
    expect(carrying.unchanged!.settingsSkipped).toBeGreaterThan(settingsSkippedBefore + 100);
  });

  it('writes a cgroup into the container of the snapshot before the last, until another face keeps snapshots', () => {
    const ids = (s: Snapshot): Map<string, ContainerSnapshot> => new Map(s.containers.map((c) => [c.id, c]));
    const [t0, t1, t2] = [ids(carrying.collect()), ids(carrying.collect()), ids(carrying.collect())];
    for (const name of names) {
      const id = `/${name}`; // seen through the isolated root
      expect(t2.get(id), id).toBeDefined();
      expect(t1.get(id), id).not.toBe(t0.get(id)); // the previous snapshot's stays as it was: rates, carried fields
      expect(t2.get(id), id).toBe(t0.get(id));
    }
    carrying.keepSnapshots();
    const seen = new Set([...t1.values(), ...t2.values()]);
    for (let i = 0; i < 3; i++) {
      for (const c of carrying.collect().containers) {
        expect(seen.has(c), c.id).toBe(false);
        seen.add(c);
      }
    }
  });

  it('stops carrying a running cgroup: its CPU usage and rates move every tick', async () => {
    await freeze(false);
    const ticks: ContainerSnapshot[] = [];
    for (let i = 0; i < 4; i++) {
      await sleep(100);
      ticks.push(ours(carrying.collect()).get('/spin')!);
    }
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i].cpu!.usageSeconds!).toBeGreaterThan(ticks[i - 1].cpu!.usageSeconds!);
      expect(ticks[i].cpu!.percent!).toBeGreaterThan(0);
    }
    await freeze(true);
    await sleep(50);
    // Frozen: the rate falls to 0 at once, and stays there while carried.
    carrying.collect();
    for (let i = 0; i < 3; i++) expect(ours(carrying.collect()).get('/spin')!.cpu!.percent).toBe(0);
  });
  it("answers the check's kept reads without reading: the token a read gives now", async () => {
    await freeze(false);
    for (let i = 0; i < 4; i++) {
      await sleep(50);
      carrying.collect(); // the idle cgroups go idle, settings and held files settle
    }
    const tree = carrying.tree;
    const answered = new Map<string, number>();
    for (let t = 0; t < 3; t++) {
      tree.beginTick();
      try {
        for (const node of tree.nodes.values()) {
          for (const file of registeredFiles()) {
            const token = tree.keptToken(node, file.slot);
            if (token === MUST_READ) continue;
            const n = tree.read(node, file);
            expect(n < 0 ? n : node.keptVersion[file.slot], `${node.id} ${file.name}`).toBe(token);
            answered.set(file.kind, (answered.get(file.kind) ?? 0) + 1);
          }
        }
      } finally {
        tree.reader.endTick();
      }
    }
    await freeze(true);
    expect(answered.get('setting') ?? 0).toBeGreaterThan(0);
    expect(answered.get('execution') ?? 0).toBeGreaterThan(0);
  });
});
