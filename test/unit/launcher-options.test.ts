// tstop run's flag handling: pure, no kernel.
import { describe, expect, it } from 'vitest';
import { wantsHelp, parseCommandLine } from '../../src/cli/command.js';
import { UsageError } from '../../src/util/errors.js';
import { runCommand, execCommand } from '../../src/cli/commands/run.js';
import { parseRunFlags } from '../../src/cli/run.js';
import { buildEnv, parseSecurityOpts, parseUlimits, parseUserns, parseVolume } from '../../src/launcher/options.js';
import { limitsText, statusText } from '../../src/launcher/manage.js';
import { initialState } from '../../src/launcher/run.js';

const parse = (argv: string[]) => {
  const { flags, positionals } = parseCommandLine(runCommand, argv);
  return parseRunFlags(flags, positionals, 0);
};

describe('tstop run flags', () => {
  it('takes docker run flags, stops at the command, keeps its own flags for it', () => {
    const o = parse([
      '--rm',
      '-it',
      '-h',
      'box',
      '--name',
      'web',
      '-m',
      '64m',
      '--pids-limit',
      '-1',
      '-e',
      'A=1',
      '--',
      'sh',
      '-c',
      'ls --help',
    ]);
    expect(o.argv).toEqual(['sh', '-c', 'ls --help']);
    expect([o.rm, o.interactive, o.tty, o.hostname, o.name]).toEqual([true, true, true, 'box', 'web']);
    expect(o.limits).toEqual({ memory: '64m', pidsLimit: '-1' });
    expect(o.network).toBe('none');
    expect(o.env).toEqual(['A=1']);
  });

  it('reads --help only before the command, and -h is the hostname', () => {
    expect(wantsHelp(runCommand, ['--help'])).toBe(true);
    expect(wantsHelp(runCommand, ['-h', 'x', 'ls', '--help'])).toBe(false);
    expect(wantsHelp(runCommand, ['--rm', '--', 'ls', '--help'])).toBe(false);
    expect(wantsHelp(execCommand, ['web', 'ls', '-h'])).toBe(false);
  });

  it('names the flag in every refusal', () => {
    const bad: Array<[string[], RegExp]> = [
      [['--name', '-x', 'true'], /--name/],
      [['--name', 'a/b', 'true'], /--name 'a\/b'/],
      [['--network', 'bridged', 'true'], /--network 'bridged': tstop offers 'none'/],
      [['--network', 'bridge', '-p', '80', 'true'], /--publish '80': expected/],
      [['--userns', '0:10', 'true'], /--userns '0:10': mapping root inside to root outside/],
      [['--read-only', 'true'], /--read-only needs --rootfs/],
      [['-v', '/a:/b', 'true'], /--volume needs --rootfs/],
      [['--cap-add', 'BOGUS', 'true'], /unknown capability "BOGUS"/],
      [['-w', 'rel', 'true'], /--workdir 'rel': must be an absolute path/],
      [['-d', '-t', 'true'], /-d cannot be combined with -i or -t/],
      [['--security-opt', 'apparmor=unconfined', 'true'], /--security-opt 'apparmor=unconfined'/],
      [['--ulimit', 'nofile=10:5', 'true'], /--ulimit 'nofile=10:5': the soft limit is above the hard limit/],
      [['--ulimit', 'bogus=1', 'true'], /--ulimit 'bogus=1': unknown limit 'bogus'/],
      [['--ulimit', 'nofile', 'true'], /--ulimit 'nofile': expected NAME=SOFT\[:HARD\]/],
      [['--oom-score-adj', '1001', 'true'], /--oom-score-adj '1001'/],
      [[], /give the command to run/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parse(argv), argv.join(' ')).toThrow(UsageError);
      expect(() => parse(argv)).toThrow(message);
    }
  });

  it('parses --userns, -v and --security-opt', () => {
    expect(parseUserns('100000:65536', 0)).toEqual({ inside: 0, outside: 100000, count: 65536 });
    expect(parseUserns('200000', 0)).toEqual({ inside: 0, outside: 200000, count: 65536 });
    expect(parseUserns('self', 1000)).toEqual({ inside: 0, outside: 1000, count: 1 });
    expect(parseUserns('host', 0)).toBeNull();
    expect(() => parseUserns('4294967290:100', 0)).toThrow(/ends above/);
    expect(parseVolume('/srv/data:/data:ro')).toEqual({ source: '/srv/data', target: '/data', readonly: true });
    expect(() => parseVolume('/srv:/x/../etc')).toThrow(/'\.\.'/);
    expect(parseSecurityOpts([])).toEqual({ noNewPrivs: true, seccomp: undefined });
    expect(parseSecurityOpts(['no-new-privileges=false']).noNewPrivs).toBe(false);
    expect(parseSecurityOpts(['no-new-privileges:true']).noNewPrivs).toBe(true);
    expect(parseSecurityOpts(['seccomp=unconfined']).seccomp).toBe('unconfined');
    expect(parseSecurityOpts(['seccomp=p.json'], '/srv').seccomp).toBe('/srv/p.json');
  });

  it('parses --ulimit over the default open-files limit, capped at our own hard limit, and --oom-score-adj', () => {
    const limits =
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n';
    expect(parseUlimits([], limits)).toEqual([{ name: 'nofile', soft: 1024, hard: 20000 }]);
    expect(parseUlimits(['nofile=100:200', 'core=0', 'nproc=-1:unlimited'], limits)).toEqual([
      { name: 'nofile', soft: 100, hard: 200 },
      { name: 'core', soft: 0, hard: 0 },
      { name: 'nproc', soft: -1, hard: -1 },
    ]);
    const roomy = limits.replace(/20000 +20000/, '1048576 1048576');
    expect(parseUlimits([], roomy)).toEqual([{ name: 'nofile', soft: 1024, hard: 524288 }]);
    expect(parse(['true']).oomScoreAdj).toBe(0);
    expect(parse(['--oom-score-adj', '-500', 'true']).oomScoreAdj).toBe(-500);
  });

  it("builds the workload's environment: defaults, then -e, NAME alone from tstop's own", () => {
    expect(buildEnv({ PATH: '/bin' }, ['A=1=2', 'B', 'C', 'PATH=/x'], { B: 'b' })).toEqual({
      PATH: '/x',
      A: '1=2',
      B: 'b',
    });
  });

  it('shows status and limits as tstop ps prints them', () => {
    const st = initialState(parse(['-m', '64m', '--cpus', '0.5', '--pids-limit', '10', 'true']), '/tstop/x');
    expect(limitsText(st)).toBe('memory 64m, cpus 0.5, pids 10');
    const now = Date.parse('2026-01-01T00:01:00Z');
    expect(statusText({ ...st, status: 'running', started: '2026-01-01T00:00:58Z' }, now)).toBe('Up 2 seconds');
    expect(
      statusText({ ...st, status: 'exited', exitCode: 137, oomKills: 1, finished: '2026-01-01T00:00:00Z' }, now),
    ).toBe('Exited (137, 1 OOM kill) 1 minute ago');
  });
});
