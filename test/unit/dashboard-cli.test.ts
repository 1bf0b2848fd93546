// The dashboard's command line: start options, and which command plain
// `tstop` runs (the dashboard on a terminal, snapshot otherwise).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDashboardArgs } from '../../src/cli/dashboard.js';
import { parseCommandLine } from '../../src/cli/command.js';
import { dashboardCommand } from '../../src/cli/commands/dashboard.js';
import { createDashboardLimiter, RememberingSource, unavailableLimiter } from '../../src/cli/dashboard-limiter.js';
import { defaultCommandName, dispatch } from '../../src/cli/main.js';
import { LimitError } from '../../src/limiter/api.js';
import { capture } from '../helpers/cli.js';

const parse = (...argv: string[]) => parseDashboardArgs(parseCommandLine(dashboardCommand, argv).flags);

afterEach(() => vi.restoreAllMocks());

describe('start options', () => {
  it('reads --interval, --sort, --filter, --tree, --all, --reverse', () => {
    expect(parse('--interval', '2s', '--sort', 'mem', '--filter', 'web', '--tree')).toEqual({
      intervalMs: 2000,
      sort: 'mem',
      reverse: false,
      filter: 'web',
      tree: true,
      all: false,
    });
    expect(parse()).toEqual({ intervalMs: 1000, sort: 'cpu', reverse: false, filter: '', tree: false, all: false });
    expect(parse('-i', '500ms', '-s', 'IO', '-r', '-a')).toMatchObject({
      intervalMs: 500,
      sort: 'io',
      reverse: true,
      all: true,
    });
  });

  it('rejects bad values with one clear line each', () => {
    expect(() => parse('--interval', 'soon')).toThrow(
      "--interval: 'soon' is not a duration (examples: 0, 500ms, 2s, 1m, 2h30m, 7d)",
    );
    expect(() => parse('--interval', '50ms')).toThrow("--interval: '50ms' is below the minimum of 100ms");
    expect(() => parse('--sort', 'colour')).toThrow(/^--sort: 'colour' is not a sort key \(cpu, mem/);
    expect(() => parse('--bogus')).toThrow("Unknown option '--bogus'");
  });
});

describe('plain tstop', () => {
  it('is the dashboard on a terminal and snapshot otherwise', async () => {
    expect(await defaultCommandName(true)).toBe('dashboard');
    expect(await defaultCommandName(false)).toBe('snapshot');
    expect(await defaultCommandName(undefined)).toBe('snapshot');
    expect(await defaultCommandName(true, ['--sort', 'mem', '--tree'])).toBe('dashboard');
  });

  it('is the snapshot on a terminal when an option only the snapshot has is given', async () => {
    expect(await defaultCommandName(true, ['--json'])).toBe('snapshot');
    expect(await defaultCommandName(true, ['--filter', 'web', '--csv'])).toBe('snapshot');
    expect(await defaultCommandName(true, ['-n', '3'])).toBe('snapshot');
    expect(await defaultCommandName(true, ['--count=3'])).toBe('snapshot');
    expect(await defaultCommandName(true, ['--all', '--filter', 'x'])).toBe('dashboard');
  });

  it('says so in the help, and lists the dashboard command', async () => {
    const io = capture();
    expect(await dispatch(['--help'], false)).toBe(0);
    expect(io.out()).toContain('starts the interactive dashboard when stdout is a');
    expect(io.out()).toContain('terminal, and prints `tstop snapshot` with the same options otherwise');
    expect(io.out()).toMatch(/\n {2}dashboard +The interactive dashboard/);
  });

  it('routes dashboard flags to snapshot when not on a terminal, which refuses them clearly', async () => {
    const io = capture();
    expect(await dispatch(['--tree'], false)).toBe(2);
    expect(io.err()).toBe("tstop: snapshot: Unknown option '--tree'\n");
  });

  it('gives dashboard usage errors with exit code 2, and refuses to start without a terminal', async () => {
    const io = capture();
    expect(await dispatch(['dashboard', '--sort', 'bogus'], true)).toBe(2);
    expect(io.err()).toMatch(/^tstop: dashboard: --sort: 'bogus' is not a sort key/);
    const isTTY = process.stdout.isTTY;
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    try {
      expect(await dispatch(['dashboard'], true)).toBe(1);
    } finally {
      Object.defineProperty(process.stdout, 'isTTY', { value: isTTY, configurable: true });
    }
    expect(io.err()).toContain(
      'tstop: the dashboard needs a terminal (stdin and stdout); use `tstop snapshot` in scripts',
    );
  });

  it('prints the dashboard help with its start options', async () => {
    const io = capture();
    expect(await dispatch(['dashboard', '--help'], true)).toBe(0);
    expect(io.out()).toContain(
      'Usage: tstop dashboard [--interval DURATION] [--sort KEY] [--filter REGEX] [--tree] [--all]',
    );
    expect(io.out()).toContain('tstop --interval 2s --sort mem --filter web --tree');
  });
});

describe('the limiter behind the dashboard', () => {
  it('is the real cgroup limiter: it checks a reference against the host', async () => {
    const source = {
      latest: null,
      collect: () => ({}) as never,
      close: () => undefined,
      invalidateSettings: () => undefined,
    };
    const l = createDashboardLimiter({ root: '/' }, source as unknown as RememberingSource);
    await expect(l.plan('/tstop-no-such-cgroup-here', { memory: '1g' })).rejects.toThrow(
      /no cgroup \/tstop-no-such-cgroup-here/,
    );
  });

  it('refuses every action with a clear LimitError where no limiter is available', async () => {
    await expect(unavailableLimiter.plan('/x', { memory: '1g' })).rejects.toThrow(LimitError);
  });
});
