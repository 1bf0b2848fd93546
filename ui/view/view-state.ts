// What the dashboard shows and where the cursor is, independent of blessed:
// the sort, filter, view mode, collapsed tree nodes, the selection (kept on
// the same cgroup from tick to tick; a vanished row hands it to its
// neighbour) and the scroll position (only the visible window is drawn).

import { filterRegex, isShownByDefault, matchesFilter } from '../../src/model/select.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { flatRows, type Row, type RowContext } from './rows.js';
import type { SortKey } from './sort.js';
import { buildTree, flattenTree } from './tree.js';

export interface ViewState {
  sort: SortKey;
  reverse: boolean;
  /** The filter as typed ("" = none). */
  filter: string;
  tree: boolean;
  /** Every cgroup, not only containers and cgroups with processes. */
  all: boolean;
  collapsed: Set<string>;
  selectedId: string | null;
  /** Index of the selection in the last rows (where a vanished row's neighbour is found). */
  selectedIndex: number;
  /** First row in the window. */
  top: number;
  paused: boolean;
  intervalMs: number;
}

export function initialState(partial: Partial<ViewState> = {}): ViewState {
  return {
    sort: 'cpu',
    reverse: false,
    filter: '',
    tree: false,
    all: false,
    collapsed: new Set(),
    selectedId: null,
    selectedIndex: 0,
    top: 0,
    paused: false,
    intervalMs: 1000,
    ...partial,
  };
}

/**
 * The filter as a predicate, matching what --filter matches in every face
 * (src/model/select.ts), or the literal text when it is not a valid regular
 * expression (so typing "[" never errors).
 */
export function compileFilter(text: string): ((c: ContainerSnapshot) => boolean) | null {
  if (text === '') return null;
  let re: RegExp;
  try {
    re = filterRegex(text);
  } catch {
    re = filterRegex(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  }
  return (c) => matchesFilter(re, c);
}

/**
 * The containers a view shows: containers and cgroups with processes (every
 * cgroup with `all`), matching the filter. The flat view leaves out the root
 * cgroup: it is the host, which the header shows.
 */
export function shownContainers(snapshot: Snapshot, state: ViewState): ContainerSnapshot[] {
  const match = compileFilter(state.filter);
  return snapshot.containers.filter(
    (c) => (state.all || isShownByDefault(c)) && (state.tree || c.id !== '/') && (!match || match(c)),
  );
}

export function buildRows(
  snapshot: Snapshot,
  state: ViewState,
  ctx: RowContext,
  shown = shownContainers(snapshot, state),
): Row[] {
  if (!state.tree) return flatRows(shown, ctx, state.sort, state.reverse);
  if (shown.length === 0) return [];
  const all = new Map<string, ContainerSnapshot>();
  for (const c of snapshot.containers) all.set(c.id, c);
  const root = buildTree(shown, all, ctx, state.sort, state.reverse);
  return flattenTree(root, state.collapsed, ctx.glyphs);
}

/** Keeps the selection on its cgroup (or its neighbour when it vanished) and the window around it. */
export function reconcile(state: ViewState, rows: Row[], pageHeight: number): void {
  if (rows.length === 0) {
    state.selectedIndex = 0;
    state.top = 0;
    return;
  }
  let i = state.selectedId === null ? -1 : rows.findIndex((r) => r.id === state.selectedId);
  if (i < 0) i = Math.min(Math.max(0, state.selectedIndex), rows.length - 1);
  state.selectedIndex = i;
  state.selectedId = rows[i].id;
  scrollIntoView(state, rows.length, pageHeight);
}

export function scrollIntoView(state: ViewState, count: number, pageHeight: number): void {
  const h = Math.max(1, pageHeight);
  const i = state.selectedIndex;
  if (i < state.top) state.top = i;
  if (i >= state.top + h) state.top = i - h + 1;
  state.top = Math.max(0, Math.min(state.top, Math.max(0, count - h)));
}

/** Moves the selection to an index (clamped). */
export function selectIndex(state: ViewState, rows: Row[], index: number, pageHeight: number): void {
  if (rows.length === 0) return;
  const i = Math.max(0, Math.min(rows.length - 1, index));
  state.selectedIndex = i;
  state.selectedId = rows[i].id;
  scrollIntoView(state, rows.length, pageHeight);
}

export function moveSelection(state: ViewState, rows: Row[], delta: number, pageHeight: number): void {
  selectIndex(state, rows, state.selectedIndex + delta, pageHeight);
}

/** Scrolls the window (mouse wheel) and keeps the selection inside it. */
export function scrollBy(state: ViewState, rows: Row[], delta: number, pageHeight: number): void {
  const h = Math.max(1, pageHeight);
  state.top = Math.max(0, Math.min(state.top + delta, Math.max(0, rows.length - h)));
  if (state.selectedIndex < state.top) selectIndex(state, rows, state.top, h);
  else if (state.selectedIndex >= state.top + h) selectIndex(state, rows, state.top + h - 1, h);
}

/** Sort by a key: the same key again reverses it (header clicks, cgtop's c m i p). */
export function sortBy(state: ViewState, key: SortKey, toggle = true): void {
  if (state.sort === key && toggle) state.reverse = !state.reverse;
  else {
    state.sort = key;
    state.reverse = false;
  }
}

/** Refresh intervals `+` and `-` step through. */
export const INTERVAL_STEPS_MS = [250, 500, 1000, 2000, 3000, 5000, 10_000, 30_000, 60_000];

export function stepInterval(current: number, direction: 1 | -1): number {
  if (direction > 0)
    return INTERVAL_STEPS_MS.find((s) => s > current) ?? INTERVAL_STEPS_MS[INTERVAL_STEPS_MS.length - 1];
  for (let i = INTERVAL_STEPS_MS.length - 1; i >= 0; i--)
    if (INTERVAL_STEPS_MS[i] < current) return INTERVAL_STEPS_MS[i];
  return INTERVAL_STEPS_MS[0];
}
