// `tstop logs`: a detached container's log (docker logs' flags). The
// implementation is in src/launcher/log-read.ts (loaded on demand).

import type { CommandSpec } from '../command.js';

export const logsCommand: CommandSpec = {
  name: 'logs',
  summary: "Print a detached (-d) tstop container's output, across its rotated log files; -f follows it.",
  usage: 'logs [-f] [-n N] [--since TIME] [-t] <container>',
  description: [
    'The log is <run dir>/NAME.log and its rotated files (tstop run --log-opt max-size=, max-file=),',
    "in the CRI format kubelet reads: '<time> stdout|stderr F|P <text>' per line (P: a piece of a",
    "line without its newline yet). Printed is the text only: the container's stdout on stdout, its",
    'stderr on stderr (as docker logs). -f goes on through rotation and ends once the container has',
    'exited (restarts included) and its log is complete. A foreground container has no log (its',
    'output went to the terminal).',
  ].join('\n'),
  flags: [
    { name: 'follow', short: 'f', type: 'boolean', description: 'keep printing new lines until the container ends' },
    {
      name: 'tail',
      short: 'n',
      type: 'string',
      value: 'N',
      description: 'only the last N lines (all: every line)',
      default: 'all',
    },
    {
      name: 'since',
      type: 'string',
      value: 'TIME',
      description: "lines written from TIME on: '10m ago', '03:12' (today), ISO 8601, '@EPOCH'",
    },
    { name: 'timestamps', short: 't', type: 'boolean', description: "each line's time first (RFC 3339, UTC)" },
  ],
  positionals: true,
  examples: ['tstop logs web', 'tstop logs -f --tail 20 web', "tstop logs -t --since '5m ago' web"],
  run: async (flags, positionals) => (await import('../logs.js')).logsCli(flags, positionals),
};
