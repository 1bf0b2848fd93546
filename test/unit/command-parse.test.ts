// src/cli/command.ts: the fast path for the usual command line (simpleParse) gives
// exactly what node's parseArgs gives, and leaves everything else to parseArgs.
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseArgsOptions, parseCommandLine, simpleParse, type CommandSpec } from '../../src/cli/command.js';
import { LAUNCHER_COMMANDS as COMMANDS } from '../../src/cli/launch-main.js';

function viaParseArgs(cmd: CommandSpec, args: string[]): unknown {
  try {
    const options = parseArgsOptions(cmd);
    const r = parseArgs({ args, options, strict: true, allowPositionals: cmd.positionals ?? false });
    return { values: { ...r.values }, positionals: r.positionals };
  } catch (err) {
    return (err as Error).message;
  }
}

const command = (name: string): CommandSpec => {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new Error(name);
  return c;
};

describe('simpleParse', () => {
  const run = command('run');
  const lines: [CommandSpec, string[]][] = [
    [run, ['--network', 'none', '--rm']],
    [run, ['--rm', '--name', 'web', '-e', 'A=1', '-e', 'B=2', '--memory=256m', '-h', 'box']],
    [run, ['-v', '/a:/b:ro', '--volume', '/c:/d', '--cpus', '0.5', '-d']],
    [run, ['--pids-limit=-1']],
    [run, ['-it']], // a group: parseArgs
    [run, ['--memory', '-1']], // ambiguous: parseArgs says so
    [run, ['--nope']],
    [run, ['-Z']],
    [run, ['--rm=1']],
    [run, ['--name']],
    [run, ['--name', '']],
    [run, ['--name=']],
    [run, ['-']],
    [run, ['--', 'x']],
    [run, ['--__proto__', 'x']],
    [run, ['--constructor']],
    [command('ps'), ['-a', '--json']],
    [command('ps'), ['x']],
    [command('stop'), ['web', '-t', '2', 'db']],
  ];

  it('equals parseArgs where it answers, and answers the usual launch', () => {
    let answered = 0;
    for (const [cmd, args] of lines) {
      const fast = simpleParse(cmd, args);
      if (fast === null) continue;
      answered++;
      expect({ values: { ...fast.values }, positionals: fast.positionals }, `${cmd.name} ${args.join(' ')}`).toEqual(
        viaParseArgs(cmd, args),
      );
    }
    expect(simpleParse(run, ['--network', 'none', '--rm'])).not.toBeNull();
    expect(answered).toBeGreaterThanOrEqual(6);
  });

  it('leaves groups, unknown flags and ambiguous values to parseArgs (same errors as before)', () => {
    for (const args of [['-it'], ['--memory', '-1x'], ['--nope'], ['--rm=1'], ['--name'], ['--__proto__', 'x']]) {
      expect(simpleParse(run, args), args.join(' ')).toBeNull();
    }
    expect(() => parseCommandLine(run, ['--nope', '--', 'true'])).toThrow("Unknown option '--nope'");
    expect(() => parseCommandLine(run, ['--name', 'a', '--name', 'b', 'true'])).toThrow('--name given more than once');
    expect(parseCommandLine(run, ['-it', '--rm', 'sh']).flags).toMatchObject({
      interactive: true,
      tty: true,
      rm: true,
    });
  });
});
