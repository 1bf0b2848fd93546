// `tstop` in a real terminal: tmux runs the built CLI (bin/tstop.js, so run
// `npm run build` first; `npm test` does) in a pane of a fixed size; the test
// sends keys with send-keys and reads the screen with capture-pane. A test
// cgroup with two busy processes must appear and sort first by CPU; `/`
// narrows the table to it; Enter shows its namespace table (checked against
// /proc/<pid>/ns); q leaves the alternate screen with the cursor visible.
// Needs root (test cgroups) and tmux (.ci/run: apt-get install -y tmux).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups, type Workload } from '../helpers/cgroups.js';
import { hasTmux, TmuxPane, waitForScreen } from '../helpers/tmux.js';

const isRoot = process.getuid?.() === 0;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/tstop.js');

/** Each test waits for several screens; a loaded machine collects slowly. */
const TEST_TIMEOUT_MS = 120_000;

function nsInode(pid: number, type: string): string {
  return /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/${type}`))![1];
}

describe.runIf(isRoot && hasTmux())('tstop in a real terminal (tmux)', () => {
  let cg: TestCgroups;
  let busy: Workload[];
  let pane: TmuxPane | null = null;
  const panes: TmuxPane[] = [];

  // tmux sets TERM in its panes itself, so TERM (and the rest) go on the command line.
  const start = (args: string, env: Record<string, string> = {}): TmuxPane => {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const p = new TmuxPane(
      `env ${vars.join(' ')} ${process.execPath} ${bin} ${args}; echo TSTOP-EXIT=$?; sleep 600`,
      200,
    );
    panes.push(p);
    return p;
  };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repo, 'dist/src/cli/main.js')))
      throw new Error('dist/ is missing: run `npm run build` first');
    cg = new TestCgroups('dash');
    cg.mkdir('busy');
    // Two spinning processes: the busiest cgroup on this 2-CPU machine even next to another test's single spinner.
    busy = [cg.spawn('busy', ['spin']), cg.spawn('busy', ['spin'])];
    await Promise.all(busy.map((w) => w.ready));
  });

  afterAll(async () => {
    for (const p of panes) p.kill();
    await cg?.cleanup();
  });

  it(
    'shows the busy test cgroup first by CPU, filters to it, shows its namespaces, and quits restoring the terminal',
    async () => {
      pane = start('--interval 500ms', { TERM: 'xterm-256color' });
      const busyId = cg.id('busy');
      // The busy cgroup and its parent (which holds it, so has the same CPU) are the first two rows.
      const lines = await waitForScreen(
        pane,
        `${busyId} sorted first by CPU`,
        (l) => l.slice(4, 6).some((row) => row.startsWith(busyId + ' ')) && l[4].startsWith(cg.id()),
      );
      expect(lines[3]).toMatch(/^NAME +RUNTIME +(IMAGE +)?▼CPU%/ /* IMAGE when the host has containers with images */);
      const row = lines.slice(4, 6).find((r) => r.startsWith(busyId + ' '))!;
      const cpu = Number(row.slice(lines[3].indexOf('▼CPU%'), lines[3].indexOf('▼CPU%') + 5).trim());
      // Two spinners: up to 200 %, less when other work shares the machine's CPUs.
      expect(cpu).toBeGreaterThan(10);

      pane.send('/');
      pane.send(`${cg.name}/busy`, true);
      pane.send('Enter');
      const filtered = await waitForScreen(
        pane,
        'the filter narrowing to the busy cgroup',
        (l) => l[4].startsWith(busyId + ' ') && l[5].trim() === '',
      );
      expect(filtered[2]).toContain(`filter ${cg.name}/busy`);

      pane.send('Enter');
      const detail = await waitForScreen(pane, 'the detail view with the namespace table', (l) =>
        l.some((x) => x.includes('Namespaces ---')),
      );
      const ns = detail.findIndex((l) => l.includes('Namespaces ---'));
      const col = detail[ns].indexOf('Namespaces');
      const table = detail.slice(ns + 1, ns + 10).map((l) => l.slice(col, col + 40).trimEnd());
      const init = Math.min(...busy.map((w) => w.pid)); // started first: the oldest
      expect(table[0]).toBe('type    state     inode');
      const expected = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'].map(
        (t) => `${t.padEnd(8)}host      ${nsInode(init, t)}`,
      );
      expect(table.slice(1)).toEqual(expected);
      expect(detail.join('\n')).toMatch(new RegExp(`init pid +(${busy.map((w) => w.pid).join('|')})`));

      pane.send('Escape');
      await waitForScreen(pane, 'the table again', (l) => /^NAME /.test(l[3]));
      expect(pane.state().alternate).toBe(true);
      pane.send('q');
      await waitForScreen(pane, 'tstop to exit', (l) => l.some((x) => x.startsWith('TSTOP-EXIT=')));
      expect(pane.text()).toContain('TSTOP-EXIT=0');
      expect(pane.state()).toEqual({ alternate: false, cursorVisible: true });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'works on TERM=linux (ASCII glyphs) and starts with --sort mem --filter --tree',
    async () => {
      const p = start(`--sort mem --filter ${cg.name} --tree`, { TERM: 'linux', LANG: 'C.UTF-8' });
      const lines = await waitForScreen(p, 'the tree filtered to the test cgroups', (l) =>
        l.some((x) => x.startsWith('  `-busy ')),
      );
      expect(lines[2]).toMatch(/sort memory \(working set\) v/);
      expect(lines[2]).toContain('tree view');
      expect(lines.slice(4, 8).map((l) => l.slice(0, 40).trimEnd())).toEqual([
        '- /',
        `\`-- ${cg.name}`,
        '  `-busy',
        '',
      ]);
      p.send('C-c');
      await waitForScreen(p, 'tstop to exit on Ctrl-C', (l) => l.some((x) => x.startsWith('TSTOP-EXIT=')));
      expect(p.text()).toContain('TSTOP-EXIT=0');
      expect(p.state()).toEqual({ alternate: false, cursorVisible: true });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'shows "terminal too small" below 80x24 and re-lays out when the pane grows',
    async () => {
      const p = start('--interval 500ms');
      await waitForScreen(p, 'the table', (l) => /^NAME /.test(l[3]));
      p.tmux('resize-window', '-t', 'main', '-x', '70', '-y', '20');
      await waitForScreen(p, 'the too-small message', (l) =>
        l.some((x) => x.includes('70x20: tstop needs at least 80x24')),
      );
      p.tmux('resize-window', '-t', 'main', '-x', '100', '-y', '30');
      const lines = await waitForScreen(
        p,
        'the table at 100 columns',
        (l) => /^NAME /.test(l[3]) && !l.join('').includes('too small'),
      );
      expect(lines[3].trimEnd().length).toBeLessThanOrEqual(100);
      expect(lines[3]).not.toContain('NET-TX');
      p.send('q');
      await waitForScreen(p, 'tstop to exit', (l) => l.some((x) => x.startsWith('TSTOP-EXIT=0')));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'l sets a memory limit through the limiter, and the cgroup file holds the new value',
    async () => {
      const audit = cg.tmp('audit.jsonl');
      const p = start(`--filter ${cg.name}/busy`, { TSTOP_AUDIT_LOG: audit });
      const busyId = cg.id('busy');
      await waitForScreen(p, 'the busy cgroup', (l) => l[4].startsWith(busyId + ' '));
      p.send('l');
      await waitForScreen(p, 'the limit form', (l) => l.some((x) => x.includes('Limits of')));
      p.send('64m', true);
      p.send('Enter');
      await waitForScreen(p, 'the planned writes', (l) => l.some((x) => x.includes('Apply these writes?')));
      p.send('y');
      await waitForScreen(p, 'the result', (l) => l.some((x) => x.includes('Limits applied')));
      const v2 = cg.hierarchyOf('memory').kind === 'v2';
      expect(cg.read('memory', 'busy', v2 ? 'memory.max' : 'memory.limit_in_bytes')).toBe(String(64 * 1024 * 1024));
      expect(fs.readFileSync(audit, 'utf8')).toContain(busyId);
      p.send('Enter');
      p.send('q');
      await waitForScreen(p, 'tstop to exit', (l) => l.some((x) => x.startsWith('TSTOP-EXIT=0')));
    },
    TEST_TIMEOUT_MS,
  );
});
