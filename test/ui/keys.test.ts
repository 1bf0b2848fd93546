// Keys, mouse and actions of the dashboard on a headless terminal: real key
// sequences go through blessed's parser; the limiter is a fake that records
// what the dashboard asked of it.

import { afterEach, describe, expect, it } from 'vitest';
import { LimitError } from '../../src/limiter/api.js';
import { cellAttr, FLAGS } from '../helpers/screen.js';
import { fourContainers } from './fixture.js';
import { KEYS, openDashboard, settle, type Harness } from './harness.js';

let h: Harness | null = null;
afterEach(() => {
  h?.close();
  h = null;
});

function open(columns = 120, rows = 30, options: Parameters<typeof openDashboard>[2] = {}): Harness {
  h = openDashboard(columns, rows, options);
  h.app.update(fourContainers());
  return h;
}

const names = (d: Harness): string[] =>
  d
    .lines()
    .slice(4, 9)
    .map((l) => l.split(' ')[0]);

const selectedRow = (d: Harness): number => {
  for (let y = 4; y < d.lines().length; y++) if (cellAttr(d.app.screen, 0, y).flags & FLAGS.inverse) return y - 4;
  return -1;
};

describe('moving', () => {
  it('moves with arrows, j/k, PgUp/PgDn, Home/End', async () => {
    const d = open();
    expect(selectedRow(d)).toBe(0);
    await d.press(KEYS.down, 'j');
    expect(selectedRow(d)).toBe(2);
    await d.press('k');
    expect(selectedRow(d)).toBe(1);
    await d.press(KEYS.end);
    expect(selectedRow(d)).toBe(3);
    await d.press(KEYS.home);
    expect(selectedRow(d)).toBe(0);
    await d.press(KEYS.pagedown);
    expect(selectedRow(d)).toBe(3);
    await d.press(KEYS.pageup);
    expect(selectedRow(d)).toBe(0);
    await d.press(KEYS.up);
    expect(selectedRow(d)).toBe(0);
  });

  it('keeps the selection on the same container when the order changes', async () => {
    const d = open();
    await d.press(KEYS.down); // db
    const next = fourContainers(101);
    next.containers.find((c) => c.id === '/docker/db')!.cpu!.percent = 500;
    d.app.update(next);
    expect(names(d)[0]).toBe('db');
    expect(selectedRow(d)).toBe(0);
  });
});

describe('filter', () => {
  it('narrows as you type, keeps it on Enter, Esc clears', async () => {
    const d = open();
    await d.press('/', 'c', 'a');
    expect(d.lines()[29]).toMatch(/^filter: ca /);
    expect(names(d)).toEqual(['cache', '', '', '', '']);
    await d.press(KEYS.backspace, KEYS.backspace, 'd', 'b', KEYS.enter);
    expect(names(d)).toEqual(['db', '', '', '', '']);
    expect(d.lines()[2]).toContain('filter db');
    await d.press(KEYS.escape);
    expect(names(d)).toEqual(['web-1', 'db', 'cache', 'cron.service', '']);
    expect(d.lines()[2]).not.toContain('filter');
  });

  it('matches the cgroup path as a case-insensitive regular expression, literal when invalid', async () => {
    const d = open();
    await d.press('/', ...'SYSTEM\\.slice', KEYS.enter);
    expect(names(d)).toEqual(['cron.service', '', '', '', '']);
    await d.press('/', KEYS.escape);
    await d.press('/', ...'web[', KEYS.enter); // not a valid regex: taken literally
    expect(d.lines()[4]).toBe("no cgroup matches the filter 'web[' (Esc clears it)");
  });

  it('starts filtered with --filter', () => {
    const d = open(120, 30, { state: { filter: 'web' } });
    expect(names(d)).toEqual(['web-1', '', '', '', '']);
  });
});

describe('sorting', () => {
  it('sorts with c m i p, reverses with r and with the same key again', async () => {
    const d = open();
    await d.press('m');
    expect(names(d)).toEqual(['db', 'web-1', 'cache', 'cron.service', '']);
    expect(d.lines()[3]).toContain('▼MEM/LIMIT');
    await d.press('r');
    expect(names(d)).toEqual(['cron.service', 'cache', 'web-1', 'db', '']);
    expect(d.lines()[3]).toContain('▲MEM/LIMIT');
    await d.press('i');
    expect(names(d)[0]).toBe('web-1');
    await d.press('p');
    expect(names(d)).toEqual(['cache', 'db', 'web-1', 'cron.service', '']); // by path: /docker/... then /system.slice
    await d.press('c', 'c');
    expect(names(d)).toEqual(['cron.service', 'cache', 'db', 'web-1', '']); // CPU, reversed
  });

  it('chooses the sort column from a list with s', async () => {
    const d = open();
    await d.press('s');
    expect(d.text()).toContain('Sort by');
    expect(d.text()).toContain('throttled %');
    // Down to "throttled %" (CPU %, memory, memory %, io, io read, io write, net, rx, tx, pids, quota, throttled).
    for (let i = 0; i < 11; i++) await d.press(KEYS.down);
    await d.press(KEYS.enter);
    expect(d.text()).not.toContain('Sort by');
    expect(names(d)[0]).toBe('db');
    expect(d.lines()[2]).toContain('sort throttled %');
  });

  it('sorts by a column when its title is clicked, reversing on a second click', async () => {
    const d = open(160, 30);
    const x = d.lines()[3].indexOf('MEM%');
    const click = (): void => {
      d.app.screen.program.emit('mouse', { action: 'mousedown', button: 'left', x, y: 3 });
      d.app.screen.program.emit('mouse', { action: 'mouseup', button: 'left', x, y: 3 });
    };
    click();
    expect(names(d)).toEqual(['db', 'web-1', 'cache', 'cron.service', '']); // no limit (null) last
    click(); // reversed; unknown values stay last (in reverse order too)
    expect(names(d)).toEqual(['web-1', 'db', 'cron.service', 'cache', '']);
  });
});

describe('mouse', () => {
  it('selects a row on click and scrolls with the wheel', async () => {
    const d = open();
    d.app.screen.program.emit('mouse', { action: 'mousedown', button: 'left', x: 5, y: 6 });
    d.app.screen.program.emit('mouse', { action: 'mouseup', button: 'left', x: 5, y: 6 });
    expect(selectedRow(d)).toBe(2);
    d.app.screen.program.emit('mouse', { action: 'wheeldown', x: 5, y: 6 });
    expect(selectedRow(d)).toBe(2); // four rows fit: nothing to scroll
  });

  it('parses real xterm mouse reports from the terminal', async () => {
    const d = open();
    // SGR 1006 report: button 0 press and release at column 3, row 6 (1-based) = the 2nd data row.
    await d.press('\x1b[<0;3;6M', '\x1b[<0;3;6m');
    expect(selectedRow(d)).toBe(1);
  });
});

describe('views', () => {
  it('toggles the tree with t, pause with Space, all cgroups with a; +/- change the interval', async () => {
    const d = open();
    await d.press('t');
    expect(d.lines()[4]).toMatch(/^▾ \//);
    await d.press('t');
    expect(names(d)[0]).toBe('web-1');
    await d.press(' ');
    expect(d.lines()[0]).toContain('PAUSED');
    await d.press(' ');
    expect(d.lines()[0]).not.toContain('PAUSED');
    await d.press('+');
    expect(d.lines()[0]).toContain('every 2s');
    await d.press('-', '-');
    expect(d.lines()[0]).toContain('every 500ms');
    await d.press('a');
    expect(d.lines()[2]).toContain('all cgroups');
    expect(d.lines()[29]).toBe('showing every cgroup');
  });

  it('opens help with ? and F1', async () => {
    const d = open();
    await d.press(KEYS.f1);
    expect(d.text()).toContain('tstop help');
    await d.press(KEYS.escape);
    expect(d.text()).not.toContain('tstop help');
  });
});

describe('actions through the limiter', () => {
  it('l: fills the form, shows the planned writes, applies on confirm and shows the result', async () => {
    const d = open(120, 40);
    await d.press('l');
    let text = d.text();
    expect(text).toContain('Limits of web-1');
    expect(text).toMatch(/memory limit +_* now 512MiB; e\.g\. 512m, 2g, unlimited/);
    expect(text).toContain('[ ] allow memory below current use (--force)');
    await d.press(...'256m', KEYS.down, KEYS.down, ...'1.5', KEYS.enter);
    await settle();
    expect(d.limiter.calls[0]).toEqual({
      method: 'plan',
      ref: '/docker/web',
      request: { memory: '256m', cpus: '1.5' },
      options: {},
    });
    text = d.text();
    expect(text).toContain('Apply these writes?');
    expect(text).toContain('tstop limit /docker/web --memory 256m --cpus 1.5');
    expect(text).toContain('/sys/fs/cgroup/memory/docker/web/memory.limit_in_bytes');
    expect(text).toContain('9223372036854771712 -> 256m');
    expect(text).toContain('note: a note from the limiter');
    await d.press('y');
    await settle();
    expect(d.limiter.calls[1].method).toBe('apply');
    expect(d.limiter.calls[1].invocation).toEqual({ via: 'dashboard' });
    text = d.text();
    expect(text).toContain('Limits applied');
    expect(text).toContain('change chg-0001 (undo: tstop limit undo chg-0001)');
    await d.press(KEYS.enter);
    expect(d.text()).not.toContain('Limits applied');
  });

  it("l: shows the limiter's exact error in the form and writes nothing", async () => {
    const d = open(120, 40);
    d.limiter.fail.plan = new LimitError("--memory: '12q' is not a size (examples: 512m, 2g, 1.5GiB)");
    await d.press('l', ...'12q', KEYS.enter);
    await settle();
    expect(d.text()).toContain("--memory: '12q' is not a size (examples: 512m, 2g, 1.5GiB)");
    expect(d.limiter.calls.map((c) => c.method)).toEqual(['plan']);
    await d.press(KEYS.escape);
    expect(d.text()).not.toContain('Limits of');
  });

  it('l: an empty form asks for a value; n cancels the plan; apply errors are shown verbatim', async () => {
    const d = open(120, 40);
    await d.press('l', KEYS.enter);
    expect(d.text()).toContain('nothing to change: fill in at least one field (Esc cancels)');
    expect(d.limiter.calls).toEqual([]);
    await d.press(...'1g', KEYS.enter);
    await settle();
    await d.press('n');
    expect(d.text()).not.toContain('Apply these writes?');
    expect(d.lines()[39]).toBe('limits unchanged');
    d.limiter.fail.apply = new LimitError(
      'writing /sys/fs/cgroup/memory/docker/web/memory.limit_in_bytes: EBUSY (device or resource busy); nothing changed',
    );
    await d.press('l', ...'1g', KEYS.enter);
    await settle();
    await d.press(KEYS.enter);
    await settle();
    expect(d.text()).toContain('Limits not applied');
    expect(d.text()).toContain('EBUSY (device or resource busy); nothing changed');
  });

  it('l: device rates become lists and checkboxes options', async () => {
    const d = open(120, 40);
    await d.press('l');
    for (let i = 0; i < 5; i++) await d.press(KEYS.tab);
    await d.press(...'/dev/vda:10m, 8:0:5m');
    // write bps, expires after, then the two checkboxes
    await d.press(KEYS.tab, KEYS.tab, KEYS.tab, ' ', KEYS.tab, ' ', KEYS.enter);
    await settle();
    expect(d.limiter.calls[0]).toMatchObject({
      request: { deviceReadBps: ['/dev/vda:10m', '8:0:5m'] },
      options: { force: true, allowSystem: true },
    });
  });

  it('f: asks before freezing, thaws a frozen container at once', async () => {
    const d = open();
    await d.press('f');
    expect(d.text()).toContain('Freeze web-1?');
    await d.press('y');
    await settle();
    expect(d.limiter.calls).toEqual([
      { method: 'setFrozen', ref: '/docker/web', frozen: true, invocation: { via: 'dashboard' } },
    ]);
    expect(d.lines()[29]).toBe('web-1 frozen (f thaws)');
    const next = fourContainers(101);
    next.containers.find((c) => c.id === '/docker/web')!.freezer = 'frozen';
    d.app.update(next);
    expect(d.lines()[4]).toMatch(/^web-1 \[frozen\]/);
    await d.press('f');
    await settle();
    expect(d.limiter.calls[1]).toMatchObject({ method: 'setFrozen', frozen: false });
  });

  it('K: chooses a signal from the list and confirms before sending', async () => {
    const d = open();
    await d.press(KEYS.down, 'K');
    expect(d.text()).toContain('Send a signal');
    expect(d.text()).toContain('to every process of db');
    await d.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter); // SIGKILL
    expect(d.text()).toContain('Send SIGKILL to the 2 processes of db?');
    await d.press(KEYS.escape);
    expect(d.limiter.calls).toEqual([]);
    await d.press(KEYS.f9, KEYS.enter, 'y');
    await settle();
    expect(d.limiter.calls).toEqual([
      { method: 'kill', ref: '/docker/db', signal: 'SIGTERM', invocation: { via: 'dashboard' } },
    ]);
    expect(d.lines()[29]).toBe('sent SIGTERM to db');
  });

  it("acts on the detail view's container too", async () => {
    const d = open(120, 40);
    await d.press(KEYS.down, KEYS.enter, 'f', 'y');
    await settle();
    expect(d.limiter.calls[0]).toMatchObject({ method: 'setFrozen', ref: '/docker/db' });
  });

  it('says actions need root when not root, and calls nothing', async () => {
    const d = open(120, 30, { isRoot: false });
    await d.press('l');
    expect(d.lines()[29]).toBe('changing limits needs root: run tstop as root (sudo tstop)');
    await d.press('f');
    expect(d.lines()[29]).toBe('freezing needs root: run tstop as root (sudo tstop)');
    await d.press('K');
    expect(d.lines()[29]).toBe('sending signals needs root: run tstop as root (sudo tstop)');
    expect(d.limiter.calls).toEqual([]);
    expect(d.app.currentOverlay).toBeNull();
  });
});

describe('quitting', () => {
  for (const [name, key] of [
    ['q', 'q'],
    ['Ctrl-C', KEYS.ctrlC],
  ] as const) {
    it(`${name} quits and restores the terminal (normal screen, cursor shown, mouse off)`, async () => {
      const d = openDashboard(100, 30);
      d.app.update(fourContainers());
      let quit = false;
      void d.app.done.then(() => (quit = true));
      await settle(); // blessed flushes its output buffer on the next tick
      expect(d.term.written()).toContain('\x1b[?1049h'); // alternate screen
      await d.press(key);
      await settle();
      expect(quit).toBe(true);
      const out = d.term.written();
      const tail = out.slice(out.lastIndexOf('\x1b[?1049h'));
      expect(tail).toContain('\x1b[?1049l'); // normal screen back
      expect(tail).toContain('\x1b[?25h'); // cursor visible
      expect(tail).toContain('\x1b[?1000l'); // mouse reporting off
      expect(d.term.input.isRaw).toBe(false);
    });
  }
});

describe('detail scrolling', () => {
  it('scrolls the detail text with the keys and the mouse wheel', async () => {
    const d = openDashboard(80, 24);
    h = d;
    d.app.update(fourContainers(100));
    d.app.update(fourContainers(101));
    await d.press(KEYS.enter);
    const y = d.lines().findIndex((l) => /^Container -+$/.test(l)); // first line of the scrolling text
    expect(y).toBe(14);
    await d.press(KEYS.down, KEYS.down);
    expect(d.lines()[y]).toBe('cgroup        /docker/web');
    d.app.screen.program.emit('mouse', { action: 'wheeldown', x: 5, y: y + 1 });
    expect(d.lines()[y]).toBe('image         nginx:1.27'); // the wheel scrolls 3 lines
    await d.press(KEYS.home);
    expect(d.lines()[y]).toMatch(/^Container -+$/);
  });
});
