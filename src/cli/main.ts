// tstop's command line: one table of commands, each loaded on demand.

import { version } from '../util/package-root.js';
import { loadAllCommands, loadCommand } from './commands/index.js';
import { helpText, type CommandSpec } from './command.js';
import { runCommand, usageFailure } from './run-command.js';

const TOP_HELP = (commands: CommandSpec[]): string =>
  [
    'Usage: tstop [COMMAND] [OPTIONS]',
    '',
    'tstop: a cgroup-centric resource monitor and limiter for Linux container hosts.',
    'With no command (or only options) it starts the interactive dashboard when stdout is a',
    'terminal, and prints `tstop snapshot` with the same options otherwise (pipes, scripts, cron)',
    'or when an option only the snapshot has is given (--json, --csv, --count).',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(12)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: tstop COMMAND --help; `tstop dashboard --help` for the',
    "                 dashboard's start options such as --interval 2s --sort mem --filter web --tree)",
    '  -V, --version  print the version',
    '',
    'Docs: README.md, docs/ (architecture, snapshot schema, benchmarks).',
    '',
  ].join('\n');

export async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', endOnClosedPipe);
  const code = await dispatch(argv);
  process.exitCode = code;
}

/** A reader that stopped early (`tstop snapshot | head`) closed the pipe: the output ends there, exit 0, no stack trace. */
function endOnClosedPipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
}

/** The command plain `tstop` (or `tstop --flag ...`) runs: the dashboard on a terminal, else snapshot. */
export async function defaultCommandName(
  stdoutIsTTY: boolean | undefined,
  argv: string[] = [],
): Promise<'dashboard' | 'snapshot'> {
  if (!stdoutIsTTY) return 'snapshot';
  // `tstop --json` (or --csv, --count) on a terminal still means the snapshot.
  const only = await snapshotOnlyOptions();
  return argv.some((a) => only.has(a.split('=')[0])) ? 'snapshot' : 'dashboard';
}

/** Options only `tstop snapshot` has (as typed: --name and -x). */
async function snapshotOnlyOptions(): Promise<ReadonlySet<string>> {
  const names = async (name: string): Promise<string[]> =>
    ((await loadCommand(name))?.flags ?? []).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
  const dashboard = new Set(await names('dashboard'));
  return new Set((await names('snapshot')).filter((n) => !dashboard.has(n)));
}

export async function dispatch(
  argv: string[],
  stdoutIsTTY: boolean | undefined = process.stdout.isTTY,
): Promise<number> {
  const first = argv[0];
  if (first === '--version' || first === '-V') {
    process.stdout.write(`tstop ${version()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const cmd = argv[1] === undefined ? undefined : await loadCommand(argv[1]);
    process.stdout.write(cmd ? helpText(cmd) : TOP_HELP(await loadAllCommands()));
    return 0;
  }
  let cmd: CommandSpec | undefined;
  let rest: string[];
  if (first === undefined || first.startsWith('-')) {
    cmd = await loadCommand(await defaultCommandName(stdoutIsTTY, argv));
    rest = argv;
  } else {
    cmd = await loadCommand(first);
    rest = argv.slice(1);
    if (!cmd) return usageFailure(`unknown command '${first}' (see tstop --help)`);
  }
  if (!cmd) return usageFailure('no default command');
  return runCommand(cmd, rest);
}
