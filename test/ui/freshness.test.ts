// The dashboard's focus: it asks the collection for every figure of the rows
// on screen and for its sort column of all rows, and says in the header when
// a column on screen shows figures older than one tick.

import { afterEach, describe, expect, it } from 'vitest';
import type { CollectFocus, ContainerSnapshot, SnapshotSource } from '../../src/model/types.js';
import { SLOW_REFRESH_TICKS } from '../../ui/view/freshness.js';
import { sampleContainer as container } from '../../src/model/samples.js';
import { fourContainers, snapshot } from './fixture.js';
import { openDashboard, settle, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(() => {
  h?.close();
  h = null;
});

/** A source serving the four-container fixture that records the focus and reports `stale` for its ids. */
function focusedSource(stale: Record<string, (keyof ContainerSnapshot)[]>, many = false) {
  const focuses: (CollectFocus | null)[] = [];
  const forty = Array.from({ length: 40 }, (_, i) =>
    container({ id: `/docker/c${i}`, name: `c${i}`, cpuPercent: i, inode: 10 + i }),
  );
  const source: SnapshotSource = {
    collect: () => (many ? snapshot(forty, 100 + focuses.length) : fourContainers(100 + focuses.length)),
    focus: (f) => focuses.push(f),
    staleFields: (id) => stale[id] ?? [],
  };
  return { source, focuses };
}

describe('dashboard focus and stale columns', () => {
  it('focuses the rows on screen and the sort column, re-reading the rest every few ticks', async () => {
    const { source, focuses } = focusedSource({});
    h = openDashboard(160, 30, { source, state: { intervalMs: 60_000, sort: 'mem' } });
    void h.app.start();
    await settle();
    h.app['tick'](); // a second tick: the rows of the first are on screen now
    const focus = focuses[focuses.length - 1]!;
    expect([...focus.ids].sort()).toEqual(['/docker/cache', '/docker/db', '/docker/web', '/system.slice/cron.service']);
    expect(focus.fresh).toEqual(['memory']);
    expect(focus.slowRefreshMs).toBe(SLOW_REFRESH_TICKS * 60_000);
  });

  it('leaves the rows below the window out of the focus', async () => {
    const { source, focuses } = focusedSource({}, true);
    h = openDashboard(160, 30, { source, state: { intervalMs: 60_000 } }); // 40 rows, a window of ~25
    void h.app.start();
    await settle();
    h.app['tick']();
    const focus = focuses[focuses.length - 1]!;
    expect([...focus.ids]).toEqual(h.app.visibleRows.slice(0, focus.ids.size).map((r) => r.id));
    expect(focus.ids.has('/docker/c39')).toBe(true); // sorted by CPU: the busiest on top
    expect(focus.ids.has('/docker/c0')).toBe(false);
    expect(focus.ids.size).toBeLessThan(h.app.visibleRows.length);
    expect(focus.fresh).toEqual(['cpu']);
  });

  it('names the cgroups no row shows (filtered out; in the tree, no ancestor of a shown one)', async () => {
    const containers = [
      container({ id: '/', runtime: 'cgroup', inode: 1 }),
      container({ id: '/docker/web', name: 'web', inode: 2 }),
      container({ id: '/busy.slice/job', runtime: 'cgroup', inode: 3 }),
      container({ id: '/idle.slice', runtime: 'cgroup', processes: [], inode: 4 }),
      container({ id: '/idle.slice/empty', runtime: 'cgroup', processes: [], inode: 5 }),
    ];
    const focuses: (CollectFocus | null)[] = [];
    const source: SnapshotSource = {
      collect: () => snapshot(containers, 100 + focuses.length),
      focus: (f) => focuses.push(f),
    };
    const hidden = async (): Promise<string[]> => {
      h!.app['tick']();
      await settle();
      return [...(focuses[focuses.length - 1]?.hidden ?? [])].sort();
    };
    h = openDashboard(160, 30, { source, state: { intervalMs: 60_000 } });
    void h.app.start();
    await settle();
    expect(focuses[0]?.hidden).toBeUndefined(); // before the first snapshot nothing is known
    // Flat view: the root (the header's host) and the empty plain cgroups.
    expect(await hidden()).toEqual(['/', '/idle.slice', '/idle.slice/empty']);
    await h.press('t'); // tree view: the root is drawn as the ancestor of every row
    expect(await hidden()).toEqual(['/idle.slice', '/idle.slice/empty']);
    await h.press('a'); // every cgroup: none hidden
    expect(await hidden()).toEqual([]);
    await h.press('/', 'w', 'e', 'b', '\r'); // a filter: only web and its ancestors are drawn
    expect(await hidden()).toEqual(['/busy.slice/job', '/idle.slice', '/idle.slice/empty']);
  });

  it('says which columns on screen are older than one tick, and nothing when none is', async () => {
    const { source } = focusedSource({ '/docker/db': ['memory', 'pressure', 'hugetlb', 'freezer', 'processes'] });
    h = openDashboard(160, 30, { source, state: { intervalMs: 60_000 } });
    void h.app.start();
    await settle();
    expect(h.lines()[2]).toBe(
      'PSI some avg10  cpu 1.5  mem 0.3  io 3.0  sort CPU % ▼  table view  FROZEN MEM PSI older than 1 tick',
    );
    h.close();
    const fresh = focusedSource({});
    h = openDashboard(160, 30, { source: fresh.source, state: { intervalMs: 60_000 } });
    void h.app.start();
    await settle();
    expect(h.lines()[2]).toBe('PSI some avg10  cpu 1.5  mem 0.3  io 3.0  sort CPU % ▼  table view');
  });
});
