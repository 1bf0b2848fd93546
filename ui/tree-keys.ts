// The tree view's keys: Left collapses a node (or goes to its parent),
// Right expands it (or goes to its first child), x toggles. The rows come
// from view/tree.ts and are drawn by the table widget.

import { parentPath } from './view/tree.js';
import type { Row } from './view/rows.js';
import { selectIndex, type ViewState } from './view/view-state.js';

/** Returns 'rebuild' when the visible rows change, 'moved' when only the selection did, null if not a tree key. */
export function treeKey(
  state: ViewState,
  rows: Row[],
  keyName: string,
  pageHeight: number,
): 'rebuild' | 'moved' | null {
  const row = rows[state.selectedIndex];
  if (!row) return null;
  switch (keyName) {
    case 'left': {
      if (row.hasChildren && row.expanded) {
        state.collapsed.add(row.id);
        return 'rebuild';
      }
      const parent = parentPath(row.id);
      const i = parent === null ? -1 : rows.findIndex((r) => r.id === parent);
      if (i >= 0) {
        selectIndex(state, rows, i, pageHeight);
        return 'moved';
      }
      return null;
    }
    case 'right':
      if (row.hasChildren && !row.expanded) {
        state.collapsed.delete(row.id);
        return 'rebuild';
      }
      if (row.hasChildren) {
        selectIndex(state, rows, state.selectedIndex + 1, pageHeight);
        return 'moved';
      }
      return null;
    case 'x':
      if (!row.hasChildren) return null;
      if (state.collapsed.has(row.id)) state.collapsed.delete(row.id);
      else state.collapsed.add(row.id);
      return 'rebuild';
  }
  return null;
}
