// Every key and mouse action of the dashboard, in one list: the help screen
// is drawn from it, so it cannot drift from what the app binds.

import { COLUMNS, COLUMN_IDS } from './columns.js';
import { THRESHOLDS } from './rows.js';

export interface KeyHelp {
  keys: string;
  what: string;
}

export const KEY_HELP: { title: string; keys: KeyHelp[] }[] = [
  {
    title: 'Move',
    keys: [
      { keys: 'Up/Down  k/j', what: 'select the previous / next row' },
      { keys: 'PgUp/PgDn', what: 'one page up / down' },
      { keys: 'Home/End  g/G', what: 'first / last row' },
      { keys: 'mouse', what: 'click selects, wheel scrolls, click a title sorts' },
    ],
  },
  {
    title: 'View',
    keys: [
      { keys: '/', what: 'filter by name, id or image (regex; Esc clears)' },
      { keys: 's  r', what: 'choose the sort column / reverse the sort' },
      { keys: 'c m i p', what: 'sort by CPU, memory, io, cgroup path' },
      { keys: 't', what: 'tree view of the cgroup hierarchy' },
      { keys: 'Left/Right  x', what: 'tree: collapse / expand / toggle a node' },
      { keys: 'a', what: 'all cgroups, or only containers and busy cgroups' },
      { keys: 'Enter', what: 'detail view (Esc returns, Tab: more charts)' },
      { keys: 'Space', what: 'pause / resume updates' },
      { keys: '+ / -', what: 'longer / shorter refresh interval' },
      { keys: '? F1  q Ctrl-C', what: 'this help / quit' },
    ],
  },
  {
    title: 'Act on the selected container (root)',
    keys: [
      { keys: 'l', what: 'change limits: memory, CPUs, cpuset, pids, io' },
      { keys: 'f', what: 'freeze / thaw' },
      { keys: 'K  F9', what: 'send a signal (choose, then confirm)' },
    ],
  },
];

/** The help screen's lines (plain text). */
export function helpLines(): string[] {
  const out: string[] = [];
  for (const group of KEY_HELP) {
    out.push(group.title);
    for (const k of group.keys) out.push(`  ${k.keys.padEnd(16)}${k.what}`);
  }
  out.push('');
  out.push('Columns');
  for (const id of COLUMN_IDS) {
    const c = COLUMNS[id];
    out.push(`  ${(c.title || '[bar]').padEnd(16)}${c.description}`);
  }
  out.push('');
  out.push('Colours: yellow = warning, red = critical');
  const t = THRESHOLDS;
  out.push(
    `  CPU ${t.cpu.warn}/${t.cpu.crit}% of quota (or of all CPUs), throttled ${t.throttled.warn}/${t.throttled.crit}%,`,
    `  memory ${t.mem.warn}/${t.mem.crit}% of limit (red name: OOM kill in the last 5 minutes),`,
    `  pids ${t.pids.warn}/${t.pids.crit}% of limit, PSI memory ${t.psi.warn}/${t.psi.crit}%`,
    '',
    'Tree: parents show subtree totals (the kernel counts children in a parent).',
    'Press any key to close this help.',
  );
  return out;
}
