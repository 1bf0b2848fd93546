// Settings (limits) kept in memory and re-read only when inotify reports a
// write that can change them (src/cgroupfs/settings.ts): each way a limit
// can change is seen at the next tick, and a limit nobody writes is not
// read again, even with the settings timer due at every tick.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import { settingFreshness } from '../../src/cgroupfs/settings.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { limitEnv, runTstop } from '../helpers/limit.js';

function byId(s: Snapshot, id: string): ContainerSnapshot {
  const c = s.containers.find((x) => x.id === id);
  if (!c) throw new Error(`${id} not in the snapshot`);
  return c;
}

/** The setting files (limits) of one test cgroup a tick read, by file name. */
function settingReads(collector: Collector, dirs: string[], tick: () => void): string[] {
  const reads: string[] = [];
  collector.tree.reader.trace = (p) => {
    if (dirs.includes(path.dirname(p)) && settingFreshness(path.basename(p)) !== null) reads.push(path.basename(p));
  };
  try {
    tick();
  } finally {
    collector.tree.reader.trace = null;
  }
  return reads.sort();
}

/**
 * Ticks until every directory of the cgroup is watched, then once more: on a
 * host shared with other watchers, a watch can fail (ENOSPC) and be placed at
 * a later walk, which rightly re-reads that hierarchy's settings once.
 */
function settle(collector: Collector, id: string): void {
  for (let tick = 0; tick < 5; tick++) {
    collector.collect();
    const node = collector.tree.nodes.get(id);
    if (node && collector.tree.settingsWatched(node)) break;
  }
  const node = collector.tree.nodes.get(id);
  expect(node && collector.tree.settingsWatched(node), `${id}: a directory without an inotify watch (ENOSPC?)`).toBe(
    true,
  );
  collector.collect();
}

describe('settings re-read on write events', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;
  let memoryLimitFile: string;
  const dirsOf = (rel: string): string[] => cg.hierarchies.map((h) => cg.dir(h, rel));

  beforeAll(() => {
    cg = new TestCgroups('watch');
    cg.mkdir('a');
    memoryLimitFile = cg.hierarchyOf('memory').kind === 'v1' ? 'memory.limit_in_bytes' : 'memory.max';
    // The timer is due at every tick: only the write events keep the limits from being read.
    collector = new Collector({ watch: true, settingsRefreshMs: 0, fdBudget: 256 });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  it('a limit nobody writes is not read again; a plain external write is seen at the next tick', () => {
    const a = cg.id('a');
    settle(collector, a);
    expect(settingReads(collector, dirsOf('a'), () => collector.collect())).toEqual([]);
    fs.writeFileSync(path.join(cg.controllerDir('memory', 'a'), memoryLimitFile), String(64 * 1024 * 1024));
    let s: Snapshot | undefined;
    expect(settingReads(collector, dirsOf('a'), () => (s = collector.collect()))).toEqual([memoryLimitFile]);
    expect(byId(s!, a).memory?.limitBytes).toBe(64 * 1024 * 1024);
    expect(settingReads(collector, dirsOf('a'), () => collector.collect())).toEqual([]);
  });

  it('a limit written by `tstop limit` (another process, no invalidateSettings) is seen at the next tick', async () => {
    const a = cg.id('a');
    collector.collect();
    const r = await runTstop(['limit', a, '--pids-limit', '33', '--allow-system'], limitEnv(cg, cg.tmp('audit.jsonl')));
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(byId(collector.collect(), a).pids?.limit).toBe(33);
  });

  it('a new cgroup shows the limit written right after its mkdir, and each later write', () => {
    collector.collect();
    const n = cg.mkdir('new');
    cg.write('pids', 'new', 'pids.max', '44');
    expect(byId(collector.collect(), n).pids?.limit).toBe(44);
    cg.write('pids', 'new', 'pids.max', '45');
    expect(byId(collector.collect(), n).pids?.limit).toBe(45);
  });

  it('after rescans (a walk every tick) limits stay in memory, writes are still seen, and a recreated cgroup reads its own', () => {
    const own = new Collector({ watch: true, rescanIntervalMs: 1, settingsRefreshMs: 0, fdBudget: 256 });
    try {
      const r = cg.mkdir('r');
      settle(own, r);
      expect(settingReads(own, dirsOf('r'), () => own.collect())).toEqual([]);
      cg.write('pids', 'r', 'pids.max', '55');
      expect(byId(own.collect(), r).pids?.limit).toBe(55);
      cg.rmdir('r');
      cg.mkdir('r');
      cg.write('pids', 'r', 'pids.max', '56');
      expect(byId(own.collect(), r).pids?.limit).toBe(56);
    } finally {
      own.close();
    }
  });

  it.runIf(fs.existsSync('/sys/fs/cgroup/devices'))(
    'v1 devices.list: a rule written to the parent shows in the child at the next tick',
    () => {
      // The parent a list of one rule (deny all, allow /dev/null), which its new child inherits.
      cg.mkdir('dev');
      cg.write('devices', 'dev', 'devices.deny', 'a');
      cg.write('devices', 'dev', 'devices.allow', 'c 1:3 rwm');
      const child = cg.mkdir('dev/child');
      expect(byId(collector.collect(), child).devices?.rules).toEqual([
        { type: 'c', major: 1, minor: 3, access: 'rwm' },
      ]);
      collector.collect();
      // Taken away from the parent: the kernel takes it from the child's list too, with no write to the child.
      cg.write('devices', 'dev', 'devices.deny', 'c 1:3 rwm');
      expect(byId(collector.collect(), child).devices?.rules).toEqual([]);
    },
  );

  it('kernfs notifications (cgroup.events, a task joining) re-read no limit', async () => {
    const p = cg.mkdir('p');
    settle(collector, p);
    const w = cg.spawn('p', ['sleep']);
    await w.ready;
    expect(settingReads(collector, dirsOf('p'), () => collector.collect())).toEqual([]);
    await cg.cleanupProcesses('p');
    expect(settingReads(collector, dirsOf('p'), () => collector.collect())).toEqual([]);
    expect(byId(collector.collect(), p).processes).toEqual([]);
  });

  it('fallbacks: an unwatched directory, setting events off, or no inotify: limits on the timer (here every tick)', () => {
    const f = cg.mkdir('f');
    collector.collect();
    // A directory whose watch is lost (ENOSPC at a later watch, a vanished watch): the timer.
    const node = collector.tree.nodes.get(f)!;
    const h = collector.tree.hierarchyIndex('pids');
    collector.tree.setDirWatched(node, h, false);
    expect(settingReads(collector, dirsOf('f'), () => collector.collect())).toContain('pids.max');
    for (const options of [{ watch: true, watchSettings: false }, { watch: false }]) {
      const own = new Collector({ ...options, settingsRefreshMs: 0, fdBudget: 256 });
      try {
        own.collect();
        cg.write('pids', 'f', 'pids.max', '66');
        expect(byId(own.collect(), f).pids?.limit).toBe(66);
        cg.write('pids', 'f', 'pids.max', 'max');
        expect(byId(own.collect(), f).pids?.limit).toBeNull();
      } finally {
        own.close();
      }
    }
  });

  it('a cgroup recreated while the event queue overflowed gets a watch on its new directory', () => {
    const ov = cg.mkdir('ov');
    settle(collector, ov);
    // Fill the queue (16,384 events here) with writes that do not coalesce, then remove and
    // make the cgroup again: its delete and create events are lost, the next tick rescans.
    const flood = [cg.controllerDir('pids', 'a'), cg.controllerDir('memory', 'a')].map((d, i) =>
      fs.openSync(path.join(d, i === 0 ? 'pids.max' : memoryLimitFile), 'w'),
    );
    try {
      for (let i = 0; i < 9000; i++) {
        fs.writeSync(flood[0], 'max');
        fs.writeSync(flood[1], String(64 * 1024 * 1024));
      }
    } finally {
      for (const fd of flood) fs.closeSync(fd);
    }
    cg.rmdir('ov');
    cg.mkdir('ov');
    collector.collect();
    // The old directory's watch died with it: a write to the new one must still be seen.
    cg.write('pids', 'ov', 'pids.max', '77');
    expect(byId(collector.collect(), ov).pids?.limit).toBe(77);
  });
});
