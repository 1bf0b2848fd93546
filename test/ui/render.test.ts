// The dashboard's screens on a headless terminal buffer: a blessed screen on
// fake streams of a fixed size, drawn from handcrafted snapshots; the tests
// read the screen's cells back and assert the text (and some colours).

import { afterEach, describe, expect, it } from 'vitest';
import { cellAttr, COLORS, FLAGS } from '../helpers/screen.js';
import { MiB, sampleContainer as container } from '../../src/model/samples.js';
import { snapshot } from './fixture.js';
import { fourContainers } from './fixture.js';
import { openDashboard, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(() => {
  h?.close();
  h = null;
});

function open(columns: number, rows: number, options: Parameters<typeof openDashboard>[2] = {}): Harness {
  h = openDashboard(columns, rows, options);
  return h;
}

describe('main table', () => {
  it('shows every column at 160 columns, sorted by CPU, with human units', () => {
    const d = open(160, 30);
    d.app.update(fourContainers());
    const lines = d.lines();
    expect(lines[0]).toBe(
      'tstop  node-7  cgroup hybrid  4 CPUs  kernel 6.18.0-test                                                             3 containers  4/5 shown  every 1s  03:04:05',
    );
    // 4 CPUs at 50 % (of 400): an eighth of the bar; memory: 4 of 16 GiB used.
    expect(lines[1]).toMatch(/^CPU \[\|{8} {57}\]   50\.0%  MEM \[\|{14} {43}\] 4\.00GiB\/16\.0GiB$/);
    expect(lines[2]).toBe('PSI some avg10  cpu 1.5  mem 0.3  io 3.0  sort CPU % ▼  table view');
    expect(lines[3]).toBe(
      'NAME                     RUNTIME    IMAGE                 ▼CPU%            QUOTA% THROT%       MEM/LIMIT  MEM%  IO-R/s  IO-W/s  NET-RX  NET-TX        PIDS PSI-M',
    );
    expect(lines.slice(4, 9)).toEqual([
      'web-1                    docker     nginx:1.27            150.0 [||||||  ]   75.0    0.0   200MiB/512MiB  39.1 1.00MiB 2.00MiB 3.00KiB 4.00KiB      12/100   0.5',
      'db                       docker     nginx:1.27             20.0 [        ]      -   30.0   480MiB/512MiB  93.8      0B      0B       -       -           2   0.0',
      'cache                    docker     nginx:1.27              5.0 [        ]      -    0.0         50.0MiB     -      0B      0B       -       -      95/100   0.0',
      'cron.service             systemd    nginx:1.27              0.5 [        ]      -    0.0         5.00MiB     -      0B      0B       -       -           2   0.0',
      '',
    ]);
    expect(lines[29]).toBe('?:help /:filter s:sort t:tree Enter:detail l:limit f:freeze K:signal q:quit');
  });

  it('highlights the selected row and colours values past their thresholds', () => {
    const d = open(160, 30);
    d.app.update(fourContainers());
    // Row 4 (web-1) is selected: inverse across the line.
    expect(cellAttr(d.app.screen, 0, 4).flags & FLAGS.inverse).toBe(FLAGS.inverse);
    expect(cellAttr(d.app.screen, 0, 5).flags & FLAGS.inverse).toBe(0);
    const lines = d.lines();
    const col = (title: string): number => lines[3].indexOf(title);
    // db: memory 93.8 % of its limit (red), throttled 30 % (red).
    expect(cellAttr(d.app.screen, col('MEM%') + 1, 5).fg).toBe(COLORS.red);
    expect(cellAttr(d.app.screen, col('THROT%') + 3, 5).fg).toBe(COLORS.red);
    // web-1: CPU at 75 % of its 2-CPU quota (yellow); memory 39 % (plain).
    expect(cellAttr(d.app.screen, col('QUOTA%') + 3, 4).fg).toBe(COLORS.yellow);
    expect(cellAttr(d.app.screen, col('MEM%') + 1, 4).fg).toBe(COLORS.default);
    // cache: 95 of 100 pids (red).
    expect(cellAttr(d.app.screen, col('PIDS') + 3, 6).fg).toBe(COLORS.red);
  });

  it('drops the least important columns first at 80 columns', () => {
    const d = open(80, 24);
    d.app.update(fourContainers());
    const lines = d.lines();
    expect(lines[3]).toBe('NAME                          ▼CPU% THROT%       MEM/LIMIT  MEM%  IO-R/s  IO-W/s');
    expect(lines[4]).toBe('web-1                         150.0    0.0   200MiB/512MiB  39.1 1.00MiB 2.00MiB');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('keeps more columns as the width grows, always in display order', () => {
    const d = open(100, 24);
    d.app.update(fourContainers());
    // QUOTA% and PIDS come back before RUNTIME and the network columns.
    expect(d.lines()[3]).toBe(
      'NAME                           ▼CPU% QUOTA% THROT%       MEM/LIMIT  MEM%  IO-R/s  IO-W/s        PIDS',
    );
    expect(d.lines()[3].length).toBeLessThanOrEqual(100);
  });

  it('re-lays out when the terminal is resized', async () => {
    const d = open(160, 30);
    d.app.update(fourContainers());
    expect(d.lines()[3]).toContain('NET-RX');
    d.term.resize(80, 24);
    await new Promise((r) => setTimeout(r, 60)); // blessed's resize debounce
    expect(d.lines()[3]).toBe('NAME                          ▼CPU% THROT%       MEM/LIMIT  MEM%  IO-R/s  IO-W/s');
    expect(d.lines()).toHaveLength(24);
  });

  it('shows a clear message below 80x24 instead of a broken layout, and recovers', async () => {
    const d = open(79, 24);
    d.app.update(fourContainers());
    const text = d.text();
    expect(text).toContain('terminal too small');
    expect(text).toContain('79x24: tstop needs at least 80x24');
    expect(text).not.toContain('NAME');
    d.term.resize(120, 23);
    await new Promise((r) => setTimeout(r, 60));
    expect(d.text()).toContain('120x23: tstop needs at least 80x24');
    d.term.resize(120, 30);
    await new Promise((r) => setTimeout(r, 60));
    expect(d.text()).not.toContain('too small');
    expect(d.lines()[4]).toMatch(/^web-1 /);
  });

  it('shows names with control characters, tag braces and wide characters escaped', () => {
    const d = open(120, 24);
    d.app.update(
      snapshot([
        container({ id: '/evil', name: 'x\x1b[31mred\x07{bold}b{/bold}', cpuPercent: 50 }),
        container({ id: '/wide', name: 'wide-名前', cpuPercent: 40 }),
        container({ id: '/nl', name: 'new\nline', cpuPercent: 30 }),
      ]),
    );
    const lines = d.lines();
    expect(lines[4]).toMatch(/^x\\x1b\[31mred\\x07\{bold\}b\{\/bold\} /);
    expect(lines[5]).toMatch(/^wide-\\u\{540d\}\\u\{524d\} /);
    expect(lines[6]).toMatch(/^new\\x0aline /);
    // Nothing the name carried reached the terminal as a control sequence.
    expect(d.term.written()).not.toContain('\x1b[31mred');
    expect(d.term.written()).not.toContain('\x07');
  });

  it('draws only the rows in view: 1,000 cgroups, 19 rows drawn, scrolled to the selection', async () => {
    const d = open(100, 24);
    const many = Array.from({ length: 1000 }, (_, i) =>
      container({ id: `/bench/c${String(i).padStart(4, '0')}`, cpuPercent: 1000 - i, inode: 10_000 + i }),
    );
    d.app.update(snapshot(many));
    let lines = d.lines();
    expect(lines[4]).toMatch(/^c0000 /);
    expect(lines[22]).toMatch(/^c0018 /);
    await d.press('\x1b[4~'); // End
    lines = d.lines();
    expect(lines[22]).toMatch(/^c0999 /);
    expect(lines[4]).toMatch(/^c0981 /);
    expect(cellAttr(d.app.screen, 0, 22).flags & FLAGS.inverse).toBe(FLAGS.inverse);
  });

  it('lets a vanished row disappear: the selection moves to its neighbour, no gap', async () => {
    const d = open(100, 24);
    d.app.update(fourContainers(100));
    await d.press('\x1b[B'); // select db
    const next = fourContainers(101);
    next.containers = next.containers.filter((c) => c.id !== '/docker/db');
    d.app.update(next);
    const lines = d.lines();
    expect(lines.slice(4, 8).map((l) => l.split(' ')[0])).toEqual(['web-1', 'cache', 'cron.service', '']);
    expect(cellAttr(d.app.screen, 0, 5).flags & FLAGS.inverse).toBe(FLAGS.inverse); // cache took db's place
  });

  it('says so when nothing matches the filter or nothing is collected yet', () => {
    const d = open(100, 24, { state: { filter: 'nomatch' } });
    expect(d.lines()[4]).toBe('');
    d.app.render();
    expect(d.text()).toContain('collecting...');
    d.app.update(fourContainers());
    expect(d.lines()[4]).toBe("no cgroup matches the filter 'nomatch' (Esc clears it)");
  });

  it('works with ASCII glyphs for TERM=linux', () => {
    const d = open(100, 24, { terminal: 'linux', unicode: false, state: { tree: true } });
    d.app.update(fourContainers());
    const lines = d.lines();
    expect(lines[2]).toContain('sort CPU % v');
    expect(lines[3]).toContain('vCPU%');
    expect(lines.slice(4, 11).map((l) => l.slice(0, 20).trimEnd())).toEqual([
      '- /',
      '|-- docker',
      '| |-web-1',
      '| |-db',
      '| `-cache',
      '`-- system.slice',
      '  `-cron.service',
    ]);
  });
});

describe('tree view', () => {
  it('shows the hierarchy with guides and subtree totals on parents', () => {
    const d = open(160, 30, { state: { tree: true } });
    d.app.update(fourContainers());
    const lines = d.lines();
    expect(lines[2]).toContain('tree view');
    const names = lines.slice(4, 11).map((l) => l.slice(0, 24).trimEnd());
    expect(names).toEqual([
      '▾ /',
      '├─▾ docker',
      '│ ├─web-1',
      '│ ├─db',
      '│ └─cache',
      '└─▾ system.slice',
      '  └─cron.service',
    ]);
    // /docker is not in the snapshot: its CPU and memory are its children's sums.
    const docker = lines[5];
    expect(docker).toContain('175.0'); // 150 + 20 + 5
    expect(docker).toContain('730MiB'); // 200 + 480 + 50
    expect(docker).toMatch(/3\.00KiB 4\.00KiB/); // one network namespace
    // The root cgroup is in the snapshot: its own (hierarchical) kernel values.
    expect(lines[4]).toContain('190.0');
  });

  it('collapses and expands nodes with Left/Right and x', async () => {
    const d = open(160, 30, { state: { tree: true } });
    d.app.update(fourContainers());
    await d.press('\x1b[B'); // /docker
    await d.press('\x1b[D'); // collapse
    let names = d
      .lines()
      .slice(4, 9)
      .map((l) => l.slice(0, 24).trimEnd());
    expect(names).toEqual(['▾ /', '├─▸ docker', '└─▾ system.slice', '  └─cron.service', '']);
    await d.press('\x1b[C'); // expand
    names = d
      .lines()
      .slice(4, 7)
      .map((l) => l.slice(0, 24).trimEnd());
    expect(names).toEqual(['▾ /', '├─▾ docker', '│ ├─web-1']);
    await d.press('x'); // toggle: collapsed again
    expect(d.lines()[5].slice(0, 12)).toBe('├─▸ docker  ');
    // Left on a collapsed node goes to its parent.
    await d.press('\x1b[D');
    expect(cellAttr(d.app.screen, 0, 4).flags & FLAGS.inverse).toBe(FLAGS.inverse);
  });
});

describe('detail view', () => {
  it('shows charts, the memory gauge, the namespace table, limits and processes of the selected container', async () => {
    const d = open(160, 48);
    d.app.update(fourContainers(100));
    d.app.update(fourContainers(101));
    await d.press('\r');
    expect(d.app.currentMode).toBe('detail');
    const text = d.text();
    expect(text).toContain('CPU %');
    expect(text).toContain('Memory MiB');
    expect(text).toContain('IO MiB/s');
    expect(text).toContain('Network KiB/s');
    expect(text).toContain('memory 200MiB of 512MiB limit (39.1%)');
    let lines = d.lines();
    const ns = lines.findIndex((l) => l.includes('Namespaces ---'));
    expect(ns).toBeGreaterThan(0);
    const col = lines[ns].indexOf('Namespaces');
    const table = lines.slice(ns + 1, ns + 10).map((l) => l.slice(col, col + 30).trimEnd());
    expect(table).toEqual([
      'type    state     inode',
      'cgroup  isolated  4026532000',
      'ipc     isolated  4026532001',
      'mnt     isolated  4026532002',
      'net     isolated  4026532500',
      'pid     isolated  4026532004',
      'time    isolated  4026532005',
      'user    isolated  4026532006',
      'uts     isolated  4026532007',
    ]);
    expect(text).toContain('chown kill net_bind_service');
    expect(text).toContain('c 1:3 rwm');
    expect(text).toMatch(/working set +200MiB \(39\.1% of limit\)/);
    // The rest scrolls into view.
    await d.press('\x1b[6~');
    lines = d.lines();
    expect(d.text()).toMatch(/memory +512MiB/);
    expect(d.text()).toMatch(/cpus +2 \(200000\/100000 us\)/);
    expect(d.text()).toMatch(/pids +100/);
    const procs = lines.findIndex((l) => l.startsWith('Processes (2)'));
    expect(lines[procs + 1]).toBe('     PID USER       S   CPU%     RSS COMMAND');
    expect(lines[procs + 2]).toBe('     101 www-data   R   98.5 50.0MiB nginx: worker process');
    expect(lines[procs + 3]).toBe('     100 root       S    1.5 10.0MiB nginx: master process');
    expect(lines[47]).toBe('Esc:back Up/Down:scroll Tab:charts l:limit f:freeze K:signal q:quit');
    await d.press('\x1b');
    expect(d.app.currentMode).toBe('table');
    expect(d.lines()[3]).toMatch(/^NAME/);
  });

  it('fits 80x24 with two charts at a time; Tab shows the other two', async () => {
    const d = open(80, 24);
    d.app.update(fourContainers(100));
    d.app.update(fourContainers(101));
    await d.press('\r');
    let text = d.text();
    expect(text).toContain('CPU %');
    expect(text).toContain('Memory MiB');
    expect(text).not.toContain('IO MiB/s');
    expect(text).toContain('[||||||||||||||||||||||||||||||');
    await d.press('\t');
    text = d.text();
    expect(text).toContain('IO MiB/s');
    expect(text).toContain('Network KiB/s');
    for (const l of d.lines()) expect(l.length).toBeLessThanOrEqual(80);
  });

  it('draws plain-text charts without braille on TERM=linux', async () => {
    const d = open(100, 40, { terminal: 'linux', unicode: false });
    for (let t = 100; t < 110; t++) d.app.update(fourContainers(t));
    await d.press('\r');
    const text = d.text();
    expect(text).not.toMatch(/[\u2800-\u28ff]/);
    expect(text).toContain('* cpu');
    expect(text).toContain('* working set  - limit');
  });

  it('goes back to the table when the container vanishes', async () => {
    const d = open(100, 30);
    d.app.update(fourContainers(100));
    await d.press('\r');
    const next = fourContainers(101);
    next.containers = next.containers.filter((c) => c.id !== '/docker/web');
    d.app.update(next);
    expect(d.app.currentMode).toBe('table');
    expect(d.lines()[29]).toBe('/docker/web is gone');
  });

  it('says why namespaces are missing for a cgroup without processes', async () => {
    const d = open(100, 40, { state: { all: true } });
    d.app.update(snapshot([container({ id: '/empty', runtime: 'cgroup', processes: [], cpuPercent: 0 })]));
    await d.press('\r');
    const lines = d.lines();
    const ns = lines.findIndex((l) => l.startsWith('Namespaces ---'));
    expect(lines[ns + 1]).toBe('no process in this cgroup');
  });
});

describe('help', () => {
  it('lists every key on one screen at 80x24', async () => {
    const d = open(80, 24);
    d.app.update(fourContainers());
    await d.press('?');
    const text = d.text();
    for (const k of [
      'Up/Down  k/j',
      'PgUp/PgDn',
      'Home/End',
      '/',
      's  r',
      'c m i p',
      'Enter',
      'Space',
      '+ / -',
      'q Ctrl-C',
      'l ',
      'f ',
      'K  F9',
      'Left/Right',
    ]) {
      expect(text).toContain(k);
    }
    expect(text).toContain('click selects, wheel scrolls, click a title sorts');
    await d.press('z');
    expect(d.text()).not.toContain('PgUp/PgDn');
  });
});
