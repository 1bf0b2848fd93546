// v2 cgroup.events served from its last bytes while its inotify watch saw
// no notification of it (src/cgroupfs/tree.ts, readPopulation): the kernel
// notifies the file on every change of "populated" and "frozen"
// (cgroup_file_notify), at most ~10 ms after the change (a rate limit, then
// a work item). So a tick reads it only after a notification, a queue
// overflow or a new watch, and every change still shows at the first tick
// after its notification.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredFiles } from '../../src/cgroupfs/files.js';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Longer than the kernel's notification delay (10 ms rate limit, then a work item) on a loaded host. */
const NOTIFICATION_WAIT_MS = 100;

function byId(s: Snapshot, id: string): ContainerSnapshot {
  const c = s.containers.find((x) => x.id === id);
  if (!c) throw new Error(`${id} not in the snapshot`);
  return c;
}

describe('cgroup.events read only when the kernel notified a change', { timeout: 300_000 }, () => {
  let cg: TestCgroups;
  let collector: Collector;
  const events = registeredFiles().find((f) => f.name === 'cgroup.events')!;

  beforeAll(() => {
    cg = new TestCgroups('events');
    for (const rel of ['empty', 'sleeping', 'moving', 'frz', 'frz/inner', 'target', 'flood1', 'flood2']) cg.mkdir(rel);
    collector = new Collector({ watch: true });
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  /** The cgroup.events reads of one tick, by test cgroup (relative path), and the snapshot. */
  function tracedTick(): { snapshot: Snapshot; reads: string[] } {
    const reads: string[] = [];
    const prefix = `/${cg.name}/`;
    collector.tree.reader.trace = (p) => {
      const at = p.indexOf(prefix);
      if (at >= 0 && p.endsWith('/cgroup.events')) reads.push(path.dirname(p.slice(at + prefix.length)));
    };
    try {
      return { snapshot: collector.collect(), reads };
    } finally {
      collector.tree.reader.trace = null;
    }
  }

  /** Whether this host can serve cgroup.events from memory: a v2 tree and inotify watching the file. */
  const watched = (rel: string): boolean => {
    const node = collector.tree.nodes.get(cg.id(rel));
    return node !== undefined && collector.tree.has(node, events) && node.watched[events.slot] === 1;
  };

  const full = (): Snapshot => {
    collector.tree.gateIdle = false;
    try {
      return collector.collect();
    } finally {
      collector.tree.gateIdle = true;
    }
  };

  const unifiedFile = (rel: string, file: string): string =>
    path.join(
      cg.dir(
        cg.hierarchies.find((h) => h.kind === 'v2')!,
        rel,
      ),
      file,
    );
  const frozenLine = (rel: string): string | undefined =>
    fs
      .readFileSync(unifiedFile(rel, 'cgroup.events'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('frozen '));

  it('does not read it for quiet cgroups (empty, or with a sleeping task), and gives what a full read gives', async () => {
    await cg.spawn('sleeping', ['sleep']).ready;
    await sleep(NOTIFICATION_WAIT_MS);
    for (let i = 0; i < 3; i++) collector.collect();
    if (!watched('empty')) return; // no cgroup v2 tree, or no inotify: read every tick
    const { snapshot, reads } = tracedTick();
    expect(reads).toEqual([]);
    const after = full();
    for (const rel of ['empty', 'sleeping', 'frz/inner']) {
      expect(byId(snapshot, cg.id(rel)).populated, rel).toBe(byId(after, cg.id(rel)).populated);
      expect(byId(snapshot, cg.id(rel)).freezer, rel).toBe(byId(after, cg.id(rel)).freezer);
    }
    expect(byId(snapshot, cg.id('sleeping')).populated).toBe(true);
    expect(byId(snapshot, cg.id('empty')).populated).toBe(false);
  });

  it('shows a task entering and leaving at the first tick after the notification', async () => {
    collector.collect();
    if (!watched('moving')) return;
    expect(byId(tracedTick().snapshot, cg.id('moving')).populated).toBe(false);
    await cg.spawn('moving', ['sleep']).ready;
    await sleep(NOTIFICATION_WAIT_MS);
    let t = tracedTick();
    expect(t.reads).toEqual(['moving']);
    expect(byId(t.snapshot, cg.id('moving')).populated).toBe(true);
    expect(byId(t.snapshot, cg.id('')).populated).toBe(true);
    expect(tracedTick().reads).toEqual([]);
    await cg.cleanupProcesses('moving');
    await sleep(NOTIFICATION_WAIT_MS);
    t = tracedTick();
    expect(t.reads).toContain('moving');
    expect(byId(t.snapshot, cg.id('moving')).populated).toBe(false);
    expect(byId(full(), cg.id('moving')).populated).toBe(false);
  });

  it('shows a freeze and a thaw (of the cgroup, and of its parent) at the first tick after it is reached', async () => {
    await cg.spawn('frz/inner', ['sleep']).ready;
    await sleep(NOTIFICATION_WAIT_MS);
    collector.collect();
    if (!watched('frz/inner')) return;
    expect(byId(tracedTick().snapshot, cg.id('frz/inner')).freezer).toBe('thawed');
    const freezeAndTick = async (rel: string, value: '0' | '1'): Promise<Snapshot> => {
      fs.writeFileSync(unifiedFile(rel, 'cgroup.freeze'), value);
      await waitFor('the freezer to settle', () => frozenLine('frz/inner') === `frozen ${value}` || null);
      await sleep(NOTIFICATION_WAIT_MS);
      return tracedTick().snapshot;
    };
    expect(byId(await freezeAndTick('frz/inner', '1'), cg.id('frz/inner')).freezer).toBe('frozen');
    expect(tracedTick().reads).toEqual([]);
    expect(byId(await freezeAndTick('frz/inner', '0'), cg.id('frz/inner')).freezer).toBe('thawed');
    // Frozen from above: the inner cgroup's own cgroup.freeze stays 0.
    let s = await freezeAndTick('frz', '1');
    expect(byId(s, cg.id('frz/inner')).freezer).toBe('frozen');
    expect(byId(s, cg.id('frz')).freezer).toBe('frozen');
    expect(tracedTick().reads).toEqual([]);
    s = await freezeAndTick('frz', '0');
    expect(byId(s, cg.id('frz/inner')).freezer).toBe('thawed');
    expect(byId(full(), cg.id('frz/inner')).freezer).toBe('thawed');
  });

  it('reads it again after an inotify queue overflow, which may have dropped its notification', async () => {
    collector.collect();
    if (!watched('target')) return;
    expect(tracedTick().reads).toEqual([]);
    // Fill the collector's queue: writes that change nothing, to two watched files in turn (so
    // the kernel cannot merge them), more than the queue holds; then a task enters the target.
    const limit = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    const fds = ['flood1', 'flood2'].map((rel) => fs.openSync(unifiedFile(rel, 'cgroup.freeze'), 'w'));
    try {
      for (let i = 0; i <= limit; i++) fs.writeSync(fds[i % 2], '0');
    } finally {
      for (const fd of fds) fs.closeSync(fd);
    }
    await cg.spawn('target', ['sleep']).ready;
    await sleep(NOTIFICATION_WAIT_MS);
    const t = tracedTick();
    expect(t.reads).toContain('target');
    expect(byId(t.snapshot, cg.id('target')).populated).toBe(true);
  });
});

describe(
  'cgroup.events after a write to cgroup.freeze, inside the kernel 10 ms notification limit',
  { timeout: 120_000 },
  () => {
    let cg: TestCgroups;
    let collector: Collector;

    beforeAll(() => {
      cg = new TestCgroups('events-rapid');
      cg.mkdir('rapid');
      // The test cgroups only: a tick takes ~1 ms, well inside the kernel's 10 ms between two notifications.
      collector = new Collector({ watch: true, root: cg.isolatedRoot() });
    });

    afterAll(async () => {
      collector?.close();
      await cg?.cleanup();
    });

    it('shows a freeze undone within 10 ms of the last notification at the next tick (its notification is late)', () => {
      const unified = cg.hierarchies.find((h) => h.kind === 'v2');
      if (!unified) return;
      const freeze = path.join(cg.dir(unified, 'rapid'), 'cgroup.freeze');
      for (let i = 0; i < 3; i++) collector.collect();
      const node = collector.tree.nodes.get('/rapid');
      const events = registeredFiles().find((f) => f.name === 'cgroup.events')!;
      if (!node || node.watched[events.slot] !== 1) return; // no inotify watch on cgroup.events
      for (let round = 0; round < 20; round++) {
        // An empty cgroup is frozen before write() returns; the kernel notifies at once.
        fs.writeFileSync(freeze, '1');
        expect(byId(collector.collect(), '/rapid').freezer).toBe('frozen');
        // Thawed again a few ms after that notification: the kernel holds this one back until 10 ms have passed.
        fs.writeFileSync(freeze, '0');
        expect(byId(collector.collect(), '/rapid').freezer, `round ${round}`).toBe('thawed');
      }
    });
  },
);
