// The dashboard's text without blessed: charts, the header, the detail
// view, the help screen and flat rows (the rest of the view model is in
// ui-view.test.ts).

import { describe, expect, it } from 'vitest';
import { chartData, asciiChart } from '../../ui/view/chart.js';
import { detailColumns, detailLines, processSection } from '../../ui/view/detail.js';
import { headerLines } from '../../ui/view/header.js';
import { History } from '../../ui/view/history.js';
import { bindingFor, helpLines, KEY_BINDINGS, KEY_HELP } from '../../ui/view/keys.js';
import { flatRows, type RowContext } from '../../ui/view/rows.js';
import { initialState, shownContainers } from '../../ui/view/view-state.js';
import { spansText, UNICODE_GLYPHS } from '../../ui/view/text.js';
import { MiB, sampleContainer as container } from '../../src/model/samples.js';
import { snapshot } from '../ui/fixture.js';
import { fourContainers } from '../ui/fixture.js';

const ctx: RowContext = { glyphs: UNICODE_GLYPHS, hostCpus: 4 };

describe('charts', () => {
  it('scales bytes to a unit, labels the limit, draws text charts', () => {
    const h = new History(8);
    for (let t = 0; t < 4; t++)
      h.record(
        snapshot(
          [
            container({
              id: '/c',
              inode: 9,
              memBytes: (100 + t * 100) * MiB,
              memLimitBytes: 512 * MiB,
              cpuPercent: t * 10,
            }),
          ],
          t,
        ),
      );
    const mem = chartData('memory', h.get('/c'), 1_700_000_100, 3);
    expect(mem.label).toBe('Memory MiB');
    expect(mem.lines.map((l) => l.title)).toEqual(['working set', 'limit']);
    expect(mem.lines[0].y).toEqual([100, 200, 300, 400]);
    expect(mem.lines[1].y).toEqual([512, 512, 512, 512]);
    expect(mem.maxY).toBeCloseTo(512 * 1.15);
    expect(mem.x).toHaveLength(4);
    const noLimit = new History(8);
    noLimit.record(snapshot([container({ id: '/c', memLimitBytes: null })], 0));
    expect(chartData('memory', noLimit.get('/c'), 0, 0).label).toBe('Memory MiB (no limit)');
    const cpu = chartData('cpu', h.get('/c'), 0, 3);
    const text = asciiChart(cpu, 20, 6).map(spansText);
    expect(text).toHaveLength(6);
    expect(text[0]).toBe('   34.5|            ');
    expect(text[4]).toBe('      0|***         ');
    expect(text[5]).toBe('       +* cpu');
    expect(chartData('io', undefined, 0, 0).x).toEqual([]);
  });
});

describe('header', () => {
  it('keeps the counts, interval, pause and clock when narrow', () => {
    const state = initialState({ paused: true, intervalMs: 2000, filter: 'web' });
    const lines = headerLines({
      snapshot: fourContainers(),
      state,
      shown: 4,
      width: 80,
      now: new Date(2026, 0, 2, 3, 4, 5),
      glyphs: UNICODE_GLYPHS,
    }).map(spansText);
    // "cgroup hybrid" and what follows it on the left did not fit.
    expect(lines[0]).toBe('tstop  node-7' + ' '.repeat(16) + '3 containers  4/5 shown  every 2s  PAUSED  03:04:05');
    expect(lines[0]).toHaveLength(80);
    expect(lines[2].trimEnd()).toBe('PSI some avg10  cpu 1.5  mem 0.3  io 3.0  sort CPU % ▼  filter web  table view');
    const none = headerLines({
      snapshot: fourContainers(),
      state: initialState(),
      shown: 4,
      width: 80,
      now: new Date(),
      glyphs: UNICODE_GLYPHS,
    });
    expect(spansText(none[2])).toContain('PSI some avg10');
    const noPsi = fourContainers();
    noPsi.host.pressure = null;
    expect(
      spansText(
        headerLines({ snapshot: noPsi, state, shown: 1, width: 100, now: new Date(), glyphs: UNICODE_GLYPHS })[2],
      ),
    ).toMatch(/^PSI not available/);
  });
});

describe('detail text', () => {
  const c = fourContainers().containers[1];
  const input = {
    container: c,
    glyphs: UNICODE_GLYPHS,
    secondsSinceOom: 42,
    processes: null,
    nowSeconds: 1_700_000_090,
  };

  it('uses 3, 2 or 1 columns by width', () => {
    expect(detailColumns(input, 160)).toHaveLength(3);
    expect(detailColumns(input, 120)).toHaveLength(2);
    expect(detailColumns(input, 80)).toHaveLength(1);
  });

  it('reports the last OOM kill and the uptime', () => {
    const text = detailLines(input, 80).map(spansText).join('\n');
    expect(text).toMatch(/OOM kills +0, last 42s ago/);
    expect(text).toMatch(/up +1m30s/);
    expect(text).toMatch(/throttled +10 periods, 0\.50s/);
    expect(text).toMatch(/mem some +0\.50 +0\.00 +0\.00/);
  });

  it('lists processes by CPU, then memory', () => {
    const sec = processSection(
      {
        ...input,
        processes: {
          total: 3,
          processes: [
            { pid: 1, user: 'root', state: 'S', cpuPercent: null, rssBytes: 1024, threads: 1, command: 'init' },
            {
              pid: 2,
              user: 'a-very-long-user-name',
              state: 'Z',
              cpuPercent: 5,
              rssBytes: 0,
              threads: 1,
              command: '[zombie]',
            },
          ],
        },
      },
      60,
    );
    expect(sec.title).toBe('Processes (3)');
    expect(sec.lines.map((l) => spansText(l).trimEnd())).toEqual([
      '     PID USER       S   CPU%     RSS COMMAND',
      '       2 a-very-lo… Z    5.0      0B [zombie]',
      '       1 root       S      - 1.00KiB init',
      '... 1 more not read',
    ]);
  });
});

describe('help', () => {
  it('names every key group and fits the keys in 22 lines (80x24 inside a border)', () => {
    const lines = helpLines();
    const keyLines = KEY_HELP.reduce((n, g) => n + 1 + g.keys.length, 0);
    expect(keyLines).toBeLessThanOrEqual(22);
    expect(lines.slice(0, keyLines).every((l) => l.length <= 78)).toBe(true);
    expect(lines.join('\n')).toContain('K  F9');
  });

  it('binds each key once per view, and every bound key resolves to its own binding', () => {
    for (const view of ['table', 'detail'] as const) {
      const seen = new Map<string, string>();
      for (const b of KEY_BINDINGS) {
        if (!b.action || (b.scope !== view && b.scope !== 'both')) continue;
        for (const k of b.keys) {
          expect(seen.get(k), `${view}: '${k}' bound twice`).toBeUndefined();
          seen.set(k, b.label);
          expect(bindingFor(view, k)?.binding).toBe(b);
        }
      }
    }
    expect(bindingFor('table', 'nothing')).toBeNull();
    expect(bindingFor('detail', 'tab')?.binding.label).toBe('Tab');
  });
});

describe('flat rows', () => {
  it('sorts and formats the fixture', () => {
    const rows = flatRows(shownContainers(fourContainers(), initialState()), ctx, 'mem', false);
    expect(rows.map((r) => r.name)).toEqual(['db', 'web-1', 'cache', 'cron.service']);
  });
});
