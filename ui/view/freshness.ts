// What the dashboard asks the collection to read each tick (its focus): every
// figure of the rows on screen and the one it sorts by; of the other rows CPU
// and pids (the default sort, and whether they hold processes), the rest on a
// slower cadence, or not at all while no row shows the cgroup. And which of
// the shown columns hold figures from an older tick (the header says so).

import type { CollectFocus, ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import type { Row } from './rows.js';
import type { SortKey } from './sort.js';
import { parentPath } from './tree.js';
import type { ViewState } from './view-state.js';

/** Off-screen rows get their slow figures re-read at most this many ticks apart. */
export const SLOW_REFRESH_TICKS = 10;

/** The snapshot fields each sort key orders by: read every tick for every row shown (on screen or not). */
const SORT_FIELDS: Record<SortKey, readonly (keyof ContainerSnapshot)[]> = {
  cpu: ['cpu'],
  mem: ['memory'],
  memPct: ['memory'],
  io: ['io'],
  ioRead: ['io'],
  ioWrite: ['io'],
  net: ['network'],
  netRx: ['network'],
  netTx: ['network'],
  pids: ['pids'],
  quota: ['cpu'],
  throttled: ['cpu'],
  psi: ['pressure'],
  name: [],
  path: [],
  runtime: [],
  image: [],
};

/** Sort keys that order by a limit: every row's limits are then re-read as often as without a focus. */
const SORTS_BY_A_LIMIT: ReadonlySet<SortKey> = new Set(['memPct', 'quota']);

/** Table columns by the snapshot field they show, as the header names them. */
const COLUMN_OF_FIELD: Partial<Record<keyof ContainerSnapshot, string>> = {
  // The NAME column's [frozen] marker.
  freezer: 'FROZEN',
  memory: 'MEM',
  io: 'IO',
  pressure: 'PSI',
};

/**
 * The focus for the next tick: the rows on screen (and the detail view's
 * cgroup), the sort's fields, and the cgroups no row shows (see hiddenIds;
 * none before the first snapshot).
 */
export function collectFocus(
  onScreen: readonly Row[],
  state: Pick<ViewState, 'sort' | 'intervalMs' | 'tree'>,
  detailId: string | null,
  snapshot: Snapshot | null,
  shown: readonly ContainerSnapshot[],
): CollectFocus {
  const ids = new Set(onScreen.map((r) => r.id));
  if (detailId !== null) ids.add(detailId);
  return {
    ids,
    fresh: SORT_FIELDS[state.sort],
    slowRefreshMs: SLOW_REFRESH_TICKS * state.intervalMs,
    settingsFresh: SORTS_BY_A_LIMIT.has(state.sort),
    ...(snapshot ? { hidden: hiddenIds(snapshot.containers, shown, state.tree) } : {}),
  };
}

/**
 * The cgroups of the snapshot that no row shows: filtered out (the default
 * selection's empty plain cgroups, a filter), and in the tree view not an
 * ancestor of a shown one either (the tree draws every ancestor, and sums
 * children into those it has no reading for).
 */
export function hiddenIds(
  all: readonly ContainerSnapshot[],
  shown: readonly ContainerSnapshot[],
  tree: boolean,
): Set<string> {
  const drawn = new Set<string>();
  for (const c of shown) {
    let id: string | null = c.id;
    while (id !== null && !drawn.has(id)) {
      drawn.add(id);
      id = tree ? parentPath(id) : null;
    }
  }
  const hidden = new Set<string>();
  for (const c of all) if (!drawn.has(c.id)) hidden.add(c.id);
  return hidden;
}

/** The header's names of the columns whose figures on screen are older than this tick, in column order. */
export function staleColumns(
  onScreen: readonly Row[],
  staleFields: (id: string) => readonly (keyof ContainerSnapshot)[],
): string[] {
  const stale = new Set<string>();
  for (const row of onScreen) {
    if (!row.container) continue;
    for (const field of staleFields(row.id)) {
      const column = COLUMN_OF_FIELD[field];
      if (column) stale.add(column);
    }
  }
  return Object.values(COLUMN_OF_FIELD).filter((c) => stale.has(c));
}
