// `tstop ps`, `tstop stop`, `tstop rm`: tstop's own containers, from their
// state files. Implementation in src/launcher/manage.ts (loaded on demand).

import type { CommandSpec } from '../command.js';

export const psCommand: CommandSpec = {
  name: 'ps',
  summary: "List tstop's containers (name, pid, status, uptime, limits); clean up after a killed tstop.",
  usage: 'ps [-a] [-q] [--json]',
  description: [
    'Containers started by tstop run, from their state files (/run/tstop, or TSTOP_RUN_DIR).',
    'A container whose helper is gone (tstop or the helper was killed) is recorded as exited and its',
    'cgroup removed; one started with --rm is removed altogether. Empty cgroups left under the tstop',
    'parent without a state file are removed too.',
  ].join('\n'),
  flags: [
    { name: 'all', short: 'a', type: 'boolean', description: 'also exited containers' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'only the names' },
    { name: 'json', type: 'boolean', description: 'print the state records as JSON' },
  ],
  examples: ['tstop ps', 'tstop ps -a', 'tstop ps -q'],
  run: async (flags) => (await import('../ps.js')).psCli(flags),
};

export const stopCommand: CommandSpec = {
  name: 'stop',
  summary: "Stop tstop containers: SIGTERM to PID 1, then SIGKILL after the timeout (docker stop's rules).",
  usage: 'stop [-t SECONDS] <container>...',
  description: [
    'A PID 1 without a handler for SIGTERM ignores it (the kernel protects a namespace init; a shell',
    'or sleep as PID 1 does), so stop kills it after the timeout. With --init, tstop-init passes',
    'SIGTERM to the workload.',
  ].join('\n'),
  flags: [
    {
      name: 'time',
      short: 't',
      type: 'string',
      value: 'SECONDS',
      description: 'seconds to wait before SIGKILL',
      default: '10',
    },
    { name: 'signal', short: 's', type: 'string', value: 'SIG', description: 'the first signal', default: 'TERM' },
  ],
  positionals: true,
  examples: ['tstop stop web', 'tstop stop -t 2 web db'],
  run: async (flags, positionals) => (await import('../ps.js')).stopCli(flags, positionals),
};

export const rmCommand: CommandSpec = {
  name: 'rm',
  summary: 'Remove exited tstop containers: state files, log and cgroup (-f: kill running ones first).',
  usage: 'rm [-f] <container>...',
  flags: [{ name: 'force', short: 'f', type: 'boolean', description: 'kill a running container first' }],
  positionals: true,
  examples: ['tstop rm web', 'tstop rm -f web'],
  run: async (flags, positionals) => (await import('../ps.js')).rmCli(flags, positionals),
};
