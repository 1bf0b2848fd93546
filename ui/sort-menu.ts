// `s`: choose the sort column from a list (the current one preselected).

import type blessed from 'blessed';
import { Menu } from './menu.js';
import { SORT_KEYS, SORT_LABELS, type SortKey } from './view/sort.js';

export function sortMenu(
  screen: blessed.Widgets.Screen,
  current: SortKey,
  onChoose: (key: SortKey) => void,
): Menu<SortKey> {
  return new Menu<SortKey>(screen, {
    name: 'sort',
    title: 'Sort by',
    items: SORT_KEYS.map((k) => ({ value: k, label: SORT_LABELS[k] })),
    selected: SORT_KEYS.indexOf(current),
    onChoose,
  });
}
