// tstop's command line: one table of commands, each loaded on demand.

import { createRequire } from 'node:module';
import { COLLECTION_FLAGS } from './collection-flags.js';
import { helpText, parseCommandLine, UsageError, type CommandSpec } from './command.js';

const require = createRequire(import.meta.url);

export function version(): string {
  const pkg = require('../../../package.json') as { version: string };
  return pkg.version;
}

const SNAPSHOT_FLAGS = [
  { name: 'json', type: 'boolean', description: 'print each tick as one JSON document (JSON Lines when --count > 1)' },
  { name: 'csv', type: 'boolean', description: 'print CSV (one header, then one row per cgroup per tick)' },
  { name: 'count', short: 'n', type: 'string', value: 'N', description: 'number of ticks to print', default: '1' },
  { name: 'interval', short: 'i', type: 'string', value: 'DURATION', description: 'time between ticks: 0 (back to back), 500ms, 2s', default: '1s' },
  { name: 'filter', short: 'f', type: 'string', value: 'REGEX', description: 'only cgroups whose id or name matches' },
  { name: 'all', short: 'a', type: 'boolean', description: 'every cgroup, not only containers and cgroups with processes' },
  ...COLLECTION_FLAGS,
] as const satisfies CommandSpec['flags'];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'snapshot',
    summary: 'Print the containers and cgroups of this host with their CPU, memory, io and pids, then exit.',
    usage: 'snapshot [--json|--csv] [--count N] [--interval DURATION] [--filter REGEX] [--all]',
    description:
      'Rates (CPU %, bytes/s) need two samples: the first tick shows them as "-" (null in JSON).\n' +
      'JSON field names are documented in docs/snapshot.schema.json.',
    flags: [...SNAPSHOT_FLAGS],
    examples: [
      'tstop snapshot',
      'tstop snapshot --json --count 5 --interval 2s --filter web',
      'tstop snapshot --csv --count 60 > usage.csv',
      'tstop snapshot --root /host --all',
    ],
    run: async (flags) => (await import('./snapshot.js')).runSnapshot(flags),
  },
];

const TOP_HELP = (): string =>
  [
    'Usage: tstop [COMMAND] [OPTIONS]',
    '',
    'tstop: a cgroup-centric resource monitor and limiter for Linux container hosts.',
    'With no command it prints a snapshot table (the interactive dashboard is coming).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show help (also: tstop COMMAND --help)',
    '  -V, --version  print the version',
    '',
    'Docs: README.md, docs/ (architecture, snapshot schema, benchmarks).',
    '',
  ].join('\n');

export async function main(argv: string[]): Promise<void> {
  const code = await dispatch(argv);
  process.exitCode = code;
}

export async function dispatch(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--version' || first === '-V') {
    process.stdout.write(`tstop ${version()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const cmd = COMMANDS.find((c) => c.name === argv[1]);
    process.stdout.write(cmd ? helpText(cmd) : TOP_HELP());
    return 0;
  }
  let cmd: CommandSpec | undefined;
  let rest: string[];
  if (first === undefined || first.startsWith('-')) {
    cmd = COMMANDS.find((c) => c.name === 'snapshot');
    rest = argv;
  } else {
    cmd = COMMANDS.find((c) => c.name === first);
    rest = argv.slice(1);
    if (!cmd) return usageFailure(`unknown command '${first}' (see tstop --help)`);
  }
  if (!cmd) return usageFailure('no default command');
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  try {
    const { flags, positionals } = parseCommandLine(cmd, rest);
    return await cmd.run(flags, positionals);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(`${cmd.name}: ${err.message}`);
    return failure(err);
  }
}

function usageFailure(message: string): number {
  process.stderr.write(`tstop: ${message}\n`);
  return 2;
}

/** Expected runtime failures (no cgroups, permissions) get one line; bugs get a stack. */
function failure(err: unknown): number {
  if (err instanceof Error && (err.name === 'NoCgroupMountsError' || 'code' in err)) {
    process.stderr.write(`tstop: ${err.message}\n`);
    return 1;
  }
  throw err;
}
