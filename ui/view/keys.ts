// Every key of the dashboard in one table (below's controller table): the
// keys, where they work, what they do, and the help text. The app
// dispatches from it and the `?` screen is drawn from it, so the two cannot
// drift apart. Actions are written against DashboardControls, so this file
// needs no widget and stays testable headless.

import { COLUMNS, COLUMN_IDS } from './columns.js';
import { THRESHOLDS } from './rows.js';
import type { SortKey } from './sort.js';

/** What a key can ask of the dashboard. */
export interface DashboardControls {
  quit(): void;
  showHelp(): void;
  togglePause(): void;
  stepRefresh(direction: 1 | -1): void;
  limitAction(): void;
  freezeAction(): void;
  signalAction(): void;
  /** Table: move the selection by rows, or by pages. */
  moveSelection(delta: number | 'page-up' | 'page-down' | 'first' | 'last'): void;
  openDetail(): void;
  closeDetail(): void;
  editFilter(): void;
  clearFilter(): void;
  chooseSort(): void;
  reverseSort(): void;
  sortBy(key: SortKey): void;
  toggleTree(): void;
  toggleAll(): void;
  /** Tree: left / right / x on the selected node. */
  treeKey(key: 'left' | 'right' | 'x'): void;
  /** Detail view: scroll by lines, pages, or to an end. */
  scrollDetail(delta: number | 'page-up' | 'page-down' | 'top' | 'bottom'): void;
  nextCharts(): void;
  /** Replay (tstop --at): one sample back (-1) or forward (+1). */
  replayStep(direction: 1 | -1): void;
  /** Replay: move by a duration. */
  replayShift(deltaMs: number): void;
  /** Replay: type a time to jump to. */
  replayJump(): void;
}

export type KeyScope = 'table' | 'detail' | 'both';

export interface KeyBinding {
  /** Key names as the dashboard dispatches them: blessed's full name ('S-g', 'pageup') or the character typed. */
  keys: readonly string[];
  /** How the help screen spells them. */
  label: string;
  group: string;
  scope: KeyScope;
  help: string;
  /**
   * Whose help screen lists it: the live dashboard's or the replay's (the
   * keys still answer in the other, saying why they do nothing there).
   */
  only?: 'live' | 'replay';
  /** Absent for help-only entries (the mouse). */
  action?: (app: DashboardControls, key: string) => void;
}

const MOVE = 'Move';
const VIEW = 'View';
const DETAIL = 'Detail view';
const ACT = 'Act on the selected container (root)';
const REPLAY = 'Replay (tstop --at TIME)';
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const REPLAY_SHIFT_MS: Record<string, number> = { '<': -MINUTE_MS, '>': MINUTE_MS, '[': -HOUR_MS, ']': HOUR_MS };

export const KEY_BINDINGS: readonly KeyBinding[] = [
  {
    keys: ['up', 'k', 'down', 'j'],
    label: 'Up/Down  k/j',
    group: MOVE,
    scope: 'table',
    help: 'select the previous / next row',
    action: (app, key) => app.moveSelection(key === 'up' || key === 'k' ? -1 : 1),
  },
  {
    keys: ['pageup', 'pagedown'],
    label: 'PgUp/PgDn',
    group: MOVE,
    scope: 'table',
    help: 'one page up / down',
    action: (app, key) => app.moveSelection(key === 'pageup' ? 'page-up' : 'page-down'),
  },
  {
    keys: ['home', 'g', 'end', 'S-g'],
    label: 'Home/End  g/G',
    group: MOVE,
    scope: 'table',
    help: 'first / last row',
    action: (app, key) => app.moveSelection(key === 'home' || key === 'g' ? 'first' : 'last'),
  },
  { keys: [], label: 'mouse', group: MOVE, scope: 'table', help: 'click selects, wheel scrolls, click a title sorts' },
  {
    keys: ['/'],
    label: '/',
    group: VIEW,
    scope: 'table',
    help: 'filter by name, id or image (regex; Esc clears)',
    action: (app) => app.editFilter(),
  },
  { keys: ['escape'], label: 'Esc', group: VIEW, scope: 'table', help: '', action: (app) => app.clearFilter() },
  {
    keys: ['s', 'r'],
    label: 's  r',
    group: VIEW,
    scope: 'table',
    help: 'choose the sort column / reverse the sort',
    action: (app, key) => (key === 's' ? app.chooseSort() : app.reverseSort()),
  },
  {
    keys: ['c', 'm', 'i', 'p'],
    label: 'c m i p',
    group: VIEW,
    scope: 'table',
    help: 'sort by CPU, memory, io, cgroup path',
    action: (app, key) =>
      app.sortBy(({ c: 'cpu', m: 'mem', i: 'io', p: 'path' } as const)[key as 'c' | 'm' | 'i' | 'p']),
  },
  {
    keys: ['t'],
    label: 't',
    group: VIEW,
    scope: 'table',
    help: 'tree view of the cgroup hierarchy',
    action: (app) => app.toggleTree(),
  },
  {
    keys: ['left', 'right', 'x'],
    label: 'Left/Right  x',
    group: VIEW,
    scope: 'table',
    help: 'tree: collapse / expand / toggle a node',
    action: (app, key) => app.treeKey(key as 'left' | 'right' | 'x'),
  },
  {
    keys: ['a'],
    label: 'a',
    group: VIEW,
    scope: 'table',
    help: 'all cgroups, or only containers and busy cgroups',
    action: (app) => app.toggleAll(),
  },
  {
    keys: ['enter'],
    label: 'Enter',
    group: VIEW,
    scope: 'table',
    help: 'detail view of the selected row',
    action: (app) => app.openDetail(),
  },
  {
    keys: ['space'],
    label: 'Space',
    group: VIEW,
    scope: 'both',
    help: 'pause / resume updates',
    action: (app) => app.togglePause(),
  },
  {
    keys: ['+', '=', '-', '_'],
    label: '+ / -',
    group: VIEW,
    scope: 'both',
    help: 'longer / shorter refresh interval',
    action: (app, key) => app.stepRefresh(key === '+' || key === '=' ? 1 : -1),
  },
  {
    keys: ['?', 'f1', 'q'],
    label: '? F1  q Ctrl-C',
    group: VIEW,
    scope: 'both',
    help: 'this help / quit',
    action: (app, key) => (key === 'q' ? app.quit() : app.showHelp()),
  },
  {
    keys: ['escape', 'backspace', 'left'],
    label: 'Esc  Left',
    group: DETAIL,
    scope: 'detail',
    help: 'back to the table; arrows, PgUp/PgDn scroll; Tab: charts',
    action: (app) => app.closeDetail(),
  },
  {
    keys: ['up', 'k', 'down', 'j', 'pageup', 'pagedown', 'home', 'g', 'end', 'S-g'],
    label: 'Up/Down PgUp/PgDn',
    group: DETAIL,
    scope: 'detail',
    help: '',
    action: (app, key) => app.scrollDetail(DETAIL_SCROLL[key]),
  },
  { keys: ['tab'], label: 'Tab', group: DETAIL, scope: 'detail', help: '', action: (app) => app.nextCharts() },
  {
    keys: [',', '.'],
    label: ',  .',
    group: REPLAY,
    scope: 'both',
    only: 'replay',
    help: 'one sample back / forward',
    action: (app, key) => app.replayStep(key === ',' ? -1 : 1),
  },
  {
    keys: ['<', '>', '[', ']'],
    label: '<  >  [  ]',
    group: REPLAY,
    scope: 'both',
    only: 'replay',
    help: 'one minute / one hour back, forward',
    action: (app, key) => app.replayShift(REPLAY_SHIFT_MS[key]),
  },
  {
    keys: ['@'],
    label: '@',
    group: REPLAY,
    scope: 'both',
    only: 'replay',
    help: "jump to a time ('03:12', '10m ago', ISO 8601, @epoch)",
    action: (app) => app.replayJump(),
  },
  {
    keys: ['l'],
    label: 'l',
    group: ACT,
    only: 'live',
    scope: 'both',
    help: 'change limits: memory, CPUs, cpuset, pids, io',
    action: (app) => app.limitAction(),
  },
  {
    keys: ['f'],
    label: 'f',
    group: ACT,
    scope: 'both',
    only: 'live',
    help: 'freeze / thaw',
    action: (app) => app.freezeAction(),
  },
  {
    keys: ['S-k', 'K', 'f9'],
    label: 'K  F9',
    group: ACT,
    only: 'live',
    scope: 'both',
    help: 'send a signal (choose, then confirm)',
    action: (app) => app.signalAction(),
  },
];

const DETAIL_SCROLL: Record<string, Parameters<DashboardControls['scrollDetail']>[0]> = {
  up: -1,
  k: -1,
  down: 1,
  j: 1,
  pageup: 'page-up',
  pagedown: 'page-down',
  home: 'top',
  g: 'top',
  end: 'bottom',
  'S-g': 'bottom',
};

/** The binding for a key in a view: by blessed's key name, else by the character typed. */
export function bindingFor(
  view: 'table' | 'detail',
  name: string,
  ch?: string,
): { binding: KeyBinding; key: string } | null {
  for (const key of ch !== undefined && ch !== name ? [name, ch] : [name]) {
    const binding = KEY_BINDINGS.find(
      (b) => b.action !== undefined && (b.scope === view || b.scope === 'both') && b.keys.includes(key),
    );
    if (binding) return { binding, key };
  }
  return null;
}

export interface KeyHelp {
  keys: string;
  what: string;
}

/** The help screen's key groups, in table order (entries without help text are left out). */
export function keyHelp(mode: 'live' | 'replay' = 'live'): { title: string; keys: KeyHelp[] }[] {
  const groups = new Map<string, KeyHelp[]>();
  for (const b of KEY_BINDINGS) {
    if (!b.help || (b.only !== undefined && b.only !== mode)) continue;
    const list = groups.get(b.group) ?? [];
    list.push({ keys: b.label, what: b.help });
    groups.set(b.group, list);
  }
  return [...groups].map(([title, keys]) => ({ title, keys }));
}

/** The live dashboard's key groups. */
export const KEY_HELP = keyHelp('live');

/** The help screen's lines (plain text). */
export function helpLines(mode: 'live' | 'replay' = 'live'): string[] {
  const out: string[] = [];
  for (const group of keyHelp(mode)) {
    out.push(group.title);
    for (const k of group.keys) out.push(`  ${k.keys.padEnd(18)}${k.what}`);
  }
  if (mode === 'replay') out.push('', 'Limit, freeze and signal keys are off: a recording cannot be changed.');
  out.push('');
  out.push('Columns');
  for (const id of COLUMN_IDS) {
    const c = COLUMNS[id];
    out.push(`  ${(c.title || '[bar]').padEnd(18)}${c.description}`);
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
