// The dashboard's view model without blessed: column fitting, sorting,
// cells and thresholds, the tree and its sums, selection and filter,
// history, text safety and the limit form (charts, header and detail text
// are in ui-view-text.test.ts).

import { describe, expect, it } from 'vitest';
import { columnAt, fitColumns, COLUMN_IDS } from '../../ui/view/columns.js';
import { editKey, lineEdit } from '../../ui/view/edit.js';
import { createLimitForm, formCommandLine, formKey, formRequest } from '../../ui/view/form.js';
import { History, Series } from '../../ui/view/history.js';
import { cell, rowFromContainer, rowSpans, type RowContext } from '../../ui/view/rows.js';
import { comparator, parseSortKey, SORT_KEYS, type Sortable } from '../../ui/view/sort.js';
import {
  buildRows,
  compileFilter,
  initialState,
  moveSelection,
  reconcile,
  scrollBy,
  shownContainers,
  sortBy,
  stepInterval,
} from '../../ui/view/view-state.js';
import {
  ASCII_GLYPHS,
  bar,
  escapeTags,
  fit,
  safeText,
  spansText,
  terminalIsUnicode,
  UNICODE_GLYPHS,
} from '../../ui/view/text.js';
import { buildTree, flattenTree, parentPath } from '../../ui/view/tree.js';
import { displayName, EMPTY_VALUES, rowValues, type RowValues } from '../../ui/view/values.js';
import { MiB, sampleContainer as container } from '../../src/model/samples.js';
import { snapshot } from '../ui/fixture.js';
import { fourContainers } from '../ui/fixture.js';

const ctx: RowContext = { glyphs: UNICODE_GLYPHS, hostCpus: 4 };

describe('fitColumns', () => {
  it('keeps everything at 160 columns and gives the slack to the name', () => {
    const cols = fitColumns(160);
    expect(cols.map((c) => c.id)).toEqual(COLUMN_IDS.filter((id) => id !== 'instance' && id !== 'image'));
    expect(cols[0].cellWidth).toBe(45);
    // With images to show (docker ps's IMAGE), the name gives up the image column's width.
    const withImage = fitColumns(160, { image: true });
    expect(withImage.map((c) => c.id)).toEqual(COLUMN_IDS.filter((id) => id !== 'instance'));
    expect(withImage[0].cellWidth).toBe(24);
    const last = cols[cols.length - 1];
    expect(last.x + last.cellWidth).toBe(160);
  });

  it('drops the least important columns first: bar, PSI, network, runtime, pids', () => {
    expect(fitColumns(139).map((c) => c.id)).toContain('cpuBar');
    expect(fitColumns(138).map((c) => c.id)).not.toContain('cpuBar');
    expect(fitColumns(120).map((c) => c.id)).toEqual([
      'name',
      'runtime',
      'cpu',
      'quota',
      'throttled',
      'mem',
      'memPct',
      'ioRead',
      'ioWrite',
      'netRx',
      'pids',
    ]);
    expect(fitColumns(80).map((c) => c.id)).toEqual(['name', 'cpu', 'throttled', 'mem', 'memPct', 'ioRead', 'ioWrite']);
    expect(fitColumns(40).map((c) => c.id)).toEqual(['name', 'cpu']);
  });

  it('shows the INSTANCE column only in the fleet view, right after the name, and keeps it when narrow', () => {
    expect(fitColumns(250, { instance: true, image: true }).map((c) => c.id)).toEqual([...COLUMN_IDS]);
    expect(fitColumns(80, { instance: true }).map((c) => c.id)).toEqual(['name', 'instance', 'cpu', 'mem', 'memPct']);
    for (let w = 31; w <= 250; w++) {
      const cols = fitColumns(w, { instance: true });
      const last = cols[cols.length - 1];
      expect(last.x + last.cellWidth).toBeLessThanOrEqual(w);
    }
  });

  it('never draws past the width', () => {
    for (let w = 31; w <= 250; w++) {
      const cols = fitColumns(w);
      const last = cols[cols.length - 1];
      expect(last.x + last.cellWidth).toBeLessThanOrEqual(w);
    }
  });

  it('finds the column under a screen column', () => {
    const cols = fitColumns(80);
    expect(columnAt(cols, 0)?.id).toBe('name');
    expect(columnAt(cols, cols[1].x + 2)?.id).toBe('cpu');
    expect(columnAt(cols, 200)).toBeNull();
  });
});

function sortable(id: string, v: Partial<RowValues>, name = id): Sortable {
  return { id, name, runtime: 'docker', image: '', values: { ...EMPTY_VALUES, ...v } };
}

describe('sorting', () => {
  const a = sortable('/a', { cpuPercent: 10, memBytes: 5 });
  const b = sortable('/b', { cpuPercent: 50, memBytes: 1 });
  const n = sortable('/n', { cpuPercent: null, memBytes: 9 });
  const t = sortable('/t', { cpuPercent: 10, memBytes: 7 });

  it('sorts numbers highest first, unknown values last in either direction', () => {
    expect([a, n, b, t].sort(comparator('cpu')).map((x) => x.id)).toEqual(['/b', '/t', '/a', '/n']);
    expect([a, n, b, t].sort(comparator('cpu', true)).map((x) => x.id)).toEqual(['/a', '/t', '/b', '/n']);
  });

  it('sorts text A-Z, reversed Z-A, and paths by id', () => {
    const x = sortable('/z/x', {}, 'alpha');
    const y = sortable('/a/y', {}, 'beta');
    expect([y, x].sort(comparator('name')).map((r) => r.name)).toEqual(['alpha', 'beta']);
    expect([x, y].sort(comparator('name', true)).map((r) => r.name)).toEqual(['beta', 'alpha']);
    expect([x, y].sort(comparator('path')).map((r) => r.id)).toEqual(['/a/y', '/z/x']);
  });

  it('sorts io and network by their totals', () => {
    const r = sortable('/r', { ioReadBps: 100, ioWriteBps: 0 });
    const w = sortable('/w', { ioReadBps: 10, ioWriteBps: 200 });
    expect([r, w].sort(comparator('io')).map((s) => s.id)).toEqual(['/w', '/r']);
    expect([r, w].sort(comparator('ioRead')).map((s) => s.id)).toEqual(['/r', '/w']);
  });

  it('parses --sort names, aliases and case', () => {
    expect(parseSortKey('mem')).toBe('mem');
    expect(parseSortKey('MEMORY')).toBe('mem');
    expect(parseSortKey('mempct')).toBe('memPct');
    expect(parseSortKey('io-write')).toBe('ioWrite');
    expect(parseSortKey('tasks')).toBe('pids');
    expect(parseSortKey('bogus')).toBeNull();
    for (const k of SORT_KEYS) expect(parseSortKey(k)).toBe(k);
  });
});

describe('cells', () => {
  const col = (id: (typeof COLUMN_IDS)[number]) => fitColumns(200).find((c) => c.id === id)!;

  it('formats memory with its limit, pids with its limit (shortened when long)', () => {
    const row = rowFromContainer(
      container({
        id: '/x',
        memBytes: 1.5 * 1024 * MiB,
        memLimitBytes: 2 * 1024 * MiB,
        pids: 12345,
        pidsLimit: 4194304,
      }),
      ctx,
    );
    expect(cell(row, col('mem'), ctx).text).toBe('1.50GiB/2.00GiB');
    expect(cell(row, col('memPct'), ctx)).toEqual({ text: '75.0', level: 'warn' });
    expect(cell(row, col('pids'), ctx).text).toBe('12.3k/4.2M');
    const noLimit = rowFromContainer(
      container({ id: '/y', memBytes: 3 * MiB, memLimitBytes: null, pids: 3, pidsLimit: null }),
      ctx,
    );
    expect(cell(noLimit, col('mem'), ctx).text).toBe('3.00MiB');
    expect(cell(noLimit, col('memPct'), ctx).text).toBe('-');
    expect(cell(noLimit, col('pids'), ctx).text).toBe('3');
  });

  it('applies the thresholds at their boundaries', () => {
    const mem = (pct: number) =>
      cell(
        rowFromContainer(container({ id: '/m', memBytes: (pct / 100) * 1000 * MiB, memLimitBytes: 1000 * MiB }), ctx),
        col('memPct'),
        ctx,
      ).level;
    expect(mem(74.9)).toBe('normal');
    expect(mem(75)).toBe('warn');
    expect(mem(89.9)).toBe('warn');
    expect(mem(90)).toBe('crit');
    const thr = (p: number) =>
      cell(rowFromContainer(container({ id: '/t', throttledPercent: p }), ctx), col('throttled'), ctx).level;
    expect(thr(0)).toBe('normal');
    expect(thr(1)).toBe('warn');
    expect(thr(25)).toBe('crit');
    // CPU without a quota: against all 4 host CPUs (90 % of 400 = 360).
    const cpu = (p: number, q: number | null = null) =>
      cell(rowFromContainer(container({ id: '/c', cpuPercent: p, quotaCores: q }), ctx), col('cpu'), ctx).level;
    expect(cpu(299)).toBe('normal');
    expect(cpu(300)).toBe('warn');
    expect(cpu(360)).toBe('crit');
    expect(cpu(45, 0.5)).toBe('crit'); // 90 % of a half-CPU quota
  });

  it('marks a recent OOM kill in red on the name and memory', () => {
    const c = container({ id: '/o', name: 'oom' });
    const row = rowFromContainer(c, { ...ctx, oomRecent: new Set(['/o']) });
    expect(cell(row, col('name'), ctx).level).toBe('crit');
    expect(cell(row, col('mem'), ctx).level).toBe('crit');
  });

  it('keeps the end of long cgroup paths and the start of long names', () => {
    const cols = fitColumns(80);
    const path = rowFromContainer(
      container({
        id: '/kubepods/burstable/pod1234/abcdef',
        name: '/kubepods/burstable/pod1234/abcdef',
        runtime: 'cgroup',
      }),
      ctx,
    );
    expect(cols[0].cellWidth).toBe(28);
    expect(spansText(rowSpans(path, cols, ctx)).slice(0, 28)).toBe('…ds/burstable/pod1234/abcdef');
    const name = rowFromContainer(container({ id: '/x', name: 'a-very-long-container-name-that-goes-on' }), ctx);
    expect(spansText(rowSpans(name, cols, ctx)).slice(0, 28)).toBe('a-very-long-container-name-…');
  });

  it('shortens 64-hex names like docker ps', () => {
    expect(displayName({ id: '/docker/x', name: 'f'.repeat(64), containerId: 'f'.repeat(64) })).toBe('ffffffffffff');
    expect(displayName({ id: '/docker/x', name: 'web', containerId: 'f'.repeat(64) })).toBe('web');
  });

  it('reads row values from the snapshot, summing network without lo', () => {
    const c = container({ id: '/n', netRxBps: 100, netTxBps: 50 });
    c.network!.push({ ...c.network![0], interface: 'lo', rxBytesPerSecond: 1e9, txBytesPerSecond: 1e9 });
    const v = rowValues(c);
    expect(v.netRxBps).toBe(100);
    expect(v.netTxBps).toBe(50);
  });
});

describe('tree', () => {
  it('adds every ancestor, sums children where a node has no cgroup, once per network namespace', () => {
    const cs = [
      container({ id: '/k/pod/a', cpuPercent: 10, memBytes: 10 * MiB, netRxBps: 100, netTxBps: 1, netInode: 77 }),
      container({ id: '/k/pod/b', cpuPercent: 20, memBytes: 20 * MiB, netRxBps: 100, netTxBps: 1, netInode: 77 }),
      container({ id: '/k/other', cpuPercent: 5, memBytes: MiB, netRxBps: 10, netTxBps: 2, netInode: 78 }),
    ];
    const all = new Map(cs.map((c) => [c.id, c]));
    const root = buildTree(cs, all, ctx, 'cpu', false);
    expect(root.id).toBe('/');
    const k = root.children[0];
    expect(k.id).toBe('/k');
    expect(k.children.map((c) => c.id)).toEqual(['/k/pod', '/k/other']);
    const pod = k.children[0];
    expect(pod.row.container).toBeNull();
    expect(pod.row.values.cpuPercent).toBe(30);
    expect(pod.row.values.memBytes).toBe(30 * MiB);
    expect(pod.row.values.netRxBps).toBe(100); // a and b share namespace 77
    expect(k.row.values.netRxBps).toBe(110);
    expect(k.row.values.cpuPercent).toBe(35);
  });

  it("uses a parent cgroup's own (hierarchical) values where it has them", () => {
    const parent = container({ id: '/p', cpuPercent: 99, memBytes: 500 * MiB });
    const child = container({ id: '/p/c', cpuPercent: 10, memBytes: 10 * MiB });
    const all = new Map([parent, child].map((c) => [c.id, c]));
    const root = buildTree([child], all, ctx, 'cpu', false);
    expect(root.children[0].row.values.cpuPercent).toBe(99);
    expect(root.children[0].row.values.memBytes).toBe(500 * MiB);
  });

  it("fills a parent's unknown values from its children without changing the snapshot's values", () => {
    const parent = container({ id: '/p', cpuPercent: null });
    const child = container({ id: '/p/c', cpuPercent: 10 });
    const root = buildTree([parent, child], new Map([parent, child].map((c) => [c.id, c])), ctx, 'cpu', false);
    expect(root.children[0].row.values.cpuPercent).toBe(10);
    expect(rowValues(parent).cpuPercent).toBeNull();
  });

  it('flattens with guides and hides collapsed subtrees', () => {
    const cs = ['/a/x', '/a/y', '/b'].map((id, i) => container({ id, cpuPercent: 30 - i }));
    const root = buildTree(cs, new Map(cs.map((c) => [c.id, c])), ctx, 'cpu', false);
    const rows = flattenTree(root, new Set(), UNICODE_GLYPHS);
    expect(rows.map((r) => r.guide + r.name)).toEqual(['/', '├─a', '│ ├─x', '│ └─y', '└─b']);
    const collapsed = flattenTree(root, new Set(['/a']), ASCII_GLYPHS);
    expect(collapsed.map((r) => r.guide + r.name)).toEqual(['/', '|-a', '`-b']);
    expect(collapsed[1].expanded).toBe(false);
  });

  it('knows parents of paths', () => {
    expect(parentPath('/')).toBeNull();
    expect(parentPath('/a')).toBe('/');
    expect(parentPath('/a/b/c')).toBe('/a/b');
  });
});

describe('state', () => {
  it('filters by name, path, container id and image; a bad regex is taken literally', () => {
    const c = container({ id: '/docker/abc', name: 'web-1' });
    expect(compileFilter('WEB')!(c)).toBe(true);
    expect(compileFilter('^/docker')!(c)).toBe(true);
    expect(compileFilter(c.containerId!.slice(0, 8))!(c)).toBe(true); // container id
    expect(compileFilter('nginx')!(c)).toBe(true); // image
    expect(compileFilter('db')!(c)).toBe(false);
    expect(compileFilter('web[')!(container({ id: '/x', name: 'web[1]' }))).toBe(true);
    expect(compileFilter('')).toBeNull();
  });

  it('leaves the root cgroup out of the flat view, keeps it in the tree; all shows idle cgroups', () => {
    const s = snapshot([
      container({ id: '/', runtime: 'cgroup' }),
      container({ id: '/idle', runtime: 'cgroup', processes: [] }),
      container({ id: '/busy', runtime: 'cgroup' }),
    ]);
    expect(shownContainers(s, initialState()).map((c) => c.id)).toEqual(['/busy']);
    expect(shownContainers(s, initialState({ tree: true })).map((c) => c.id)).toEqual(['/', '/busy']);
    expect(shownContainers(s, initialState({ all: true })).map((c) => c.id)).toEqual(['/idle', '/busy']);
  });

  it('keeps the selection on its row, hands it to the neighbour when it vanishes', () => {
    const state = initialState();
    let rows = buildRows(fourContainers(), state, ctx);
    reconcile(state, rows, 10);
    moveSelection(state, rows, 3, 10); // cron.service, the last
    expect(state.selectedId).toBe('/system.slice/cron.service');
    const s = fourContainers();
    s.containers = s.containers.filter((c) => c.id !== '/system.slice/cron.service');
    rows = buildRows(s, state, ctx);
    reconcile(state, rows, 10);
    expect(state.selectedId).toBe('/docker/cache');
    expect(state.selectedIndex).toBe(2);
    reconcile(state, [], 10);
    expect(state.top).toBe(0);
  });

  it('scrolls the window to follow the selection and the wheel', () => {
    const many = snapshot(Array.from({ length: 100 }, (_, i) => container({ id: `/c${i}`, cpuPercent: 100 - i })));
    const state = initialState();
    const rows = buildRows(many, state, ctx);
    reconcile(state, rows, 10);
    moveSelection(state, rows, 15, 10);
    expect([state.selectedIndex, state.top]).toEqual([15, 6]);
    scrollBy(state, rows, 30, 10);
    expect([state.selectedIndex, state.top]).toEqual([36, 36]);
    scrollBy(state, rows, 1000, 10);
    expect(state.top).toBe(90);
    moveSelection(state, rows, -1000, 10);
    expect([state.selectedIndex, state.top]).toEqual([0, 0]);
  });

  it('sorts again by the same key in reverse, another key from its natural order', () => {
    const s = initialState();
    sortBy(s, 'cpu');
    expect([s.sort, s.reverse]).toEqual(['cpu', true]);
    sortBy(s, 'mem');
    expect([s.sort, s.reverse]).toEqual(['mem', false]);
    sortBy(s, 'mem', false);
    expect(s.reverse).toBe(false);
  });

  it('steps the interval', () => {
    expect(stepInterval(1000, 1)).toBe(2000);
    expect(stepInterval(1000, -1)).toBe(500);
    expect(stepInterval(250, -1)).toBe(250);
    expect(stepInterval(60_000, 1)).toBe(60_000);
    expect(stepInterval(1500, 1)).toBe(2000);
    expect(stepInterval(1500, -1)).toBe(1000);
  });
});

describe('history', () => {
  it('keeps a bounded series, halving its resolution when full', () => {
    const s = new Series(4);
    for (let i = 1; i <= 4; i++) s.push(i, i * 10);
    expect(s.points().values).toEqual([10, 20, 30, 40]);
    s.push(5, 50); // full: pairs merged into 15 and 35, then 50 stored
    expect(s.points().values).toEqual([15, 35, 50]);
    expect(s.resolution).toBe(2);
    s.push(6, 60); // from now on two samples make one point
    expect(s.points().values).toEqual([15, 35, 50]);
    s.push(7, 70);
    expect(s.points()).toEqual({ times: [2, 4, 5, 7], values: [15, 35, 50, 65] });
  });

  it('grows its storage up to the capacity without losing points', () => {
    const s = new Series(64);
    for (let i = 0; i < 40; i++) s.push(i, i);
    expect(s.points().values).toEqual(Array.from({ length: 40 }, (_, i) => i));
    for (let i = 40; i < 65; i++) s.push(i, i);
    expect(s.length).toBe(33);
    expect(s.points().values[0]).toBe(0.5);
  });

  it('skips unknown values when merging, keeps the last for limits', () => {
    const s = new Series(2);
    s.push(1, null);
    s.push(2, 8);
    s.push(3, 4); // compaction: (null, 8) → 8
    s.push(4, null);
    expect(s.points().values).toEqual([8, 4]);
    const last = new Series(2, 'last');
    for (const [t, v] of [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ])
      last.push(t, v);
    expect(last.points().values).toEqual([2, 3]);
  });

  it('remembers OOM kills for the recent window, forgets vanished and recreated cgroups', () => {
    const h = new History(8, 300);
    const c = (t: number, kills: number, inode = 5) => snapshot([container({ id: '/o', oomKills: kills, inode })], t);
    h.record(c(100, 3)); // kills before tstop started do not count
    expect(h.oomRecent().size).toBe(0);
    h.record(c(101, 4));
    expect([...h.oomRecent()]).toEqual(['/o']);
    expect(h.secondsSinceOom('/o')).toBe(0);
    h.record(c(401, 4));
    expect(h.oomRecent().has('/o')).toBe(true);
    h.record(c(402, 4));
    expect(h.oomRecent().has('/o')).toBe(false);
    expect(h.get('/o')!.series.cpu.length).toBe(4);
    h.record(c(403, 4, 6)); // recreated: new inode, new history
    expect(h.get('/o')!.series.cpu.length).toBe(1);
    h.record(snapshot([], 404));
    expect(h.get('/o')).toBeUndefined();
  });
});

describe('text', () => {
  it('escapes control, zero-width and wide characters so one character is one cell', () => {
    expect(safeText('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(safeText('x\u200by')).toBe('x\\u{200b}y');
    expect(safeText('名')).toBe('\\u{540d}');
    expect(safeText('😀')).toBe('\\u{1f600}');
    expect(safeText('café')).toBe('café');
    expect(safeText('café', false)).toBe('caf\\u{e9}');
  });

  it('fits, pads and bars', () => {
    expect(fit('abcdef', 4)).toBe('abc~');
    expect(fit('abcdef', 4, 'left', '…', true)).toBe('…def');
    expect(fit('ab', 4, 'right')).toBe('  ab');
    expect(bar(0.5, 10)).toBe('|||||     ');
    expect(bar(2, 4)).toBe('||||');
    expect(bar(null, 3)).toBe('   ');
    expect(escapeTags('{bold}')).toBe('{open}bold{close}');
  });

  it('uses ASCII on the Linux console and without a UTF-8 locale', () => {
    expect(terminalIsUnicode({ TERM: 'linux', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(terminalIsUnicode({ TERM: 'xterm-256color', LANG: 'C' })).toBe(false);
    expect(terminalIsUnicode({ TERM: 'xterm-256color', LC_ALL: 'C.UTF-8' })).toBe(true);
  });
});

describe('limit form', () => {
  it('turns the filled-in fields into a LimitRequest, devices as lists', () => {
    const form = createLimitForm(container({ id: '/docker/web', name: 'web' }), 'web');
    for (const ch of '512m') formKey(form, ch, { name: ch });
    formKey(form, undefined, { name: 'tab' });
    formKey(form, undefined, { name: 'tab' });
    for (const ch of '0.5') formKey(form, ch, {});
    for (let i = 0; i < 3; i++) formKey(form, undefined, { name: 'down' });
    for (const ch of '/dev/vda:1m 8:16:2m') formKey(form, ch, { name: ch === ' ' ? 'space' : ch });
    formKey(form, undefined, { name: 'up', full: 'S-tab' });
    expect(form.focus).toBe(4);
    expect(formRequest(form)).toEqual({
      request: { memory: '512m', cpus: '0.5', deviceReadBps: ['/dev/vda:1m', '8:16:2m'] },
      options: {},
    });
    expect(formCommandLine(form)).toBe(
      'tstop limit /docker/web --memory 512m --cpus 0.5 --device-read-bps /dev/vda:1m --device-read-bps 8:16:2m',
    );
    expect(formKey(form, undefined, { name: 'enter' })).toBe('submit');
    expect(formKey(form, undefined, { name: 'escape' })).toBe('cancel');
  });

  it('checks allow-system for plain cgroups and toggles with Space', () => {
    const form = createLimitForm(container({ id: '/plain', runtime: 'cgroup' }), 'plain');
    form.focus = form.fields.findIndex((f) => f.key === 'force');
    formKey(form, ' ', { name: 'space' });
    form.fields[0].kind === 'text' && (form.fields[0].edit = lineEdit('1g'));
    expect(formRequest(form)).toEqual({ request: { memory: '1g' }, options: { force: true, allowSystem: true } });
    expect(formRequest(createLimitForm(container({ id: '/x' }), 'x'))).toEqual({
      error: 'nothing to change: fill in at least one field (Esc cancels)',
    });
  });

  it('edits a line', () => {
    const e = lineEdit('abc');
    editKey(e, undefined, { name: 'left' });
    editKey(e, 'X', { name: 'x' });
    expect(e).toEqual({ text: 'abXc', cursor: 3 });
    editKey(e, undefined, { name: 'backspace' });
    editKey(e, undefined, { name: 'home' });
    editKey(e, undefined, { name: 'delete' });
    expect(e).toEqual({ text: 'bc', cursor: 0 });
    editKey(e, undefined, { full: 'C-u' });
    expect(e.text).toBe('');
    expect(editKey(e, '\x01', { ctrl: true, name: 'a', full: 'C-a' })).toBe(true);
    expect(e.text).toBe('');
  });
});
