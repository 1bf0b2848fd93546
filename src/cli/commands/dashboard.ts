// `tstop` / `tstop dashboard`: flags and help; the implementation is in
// ../dashboard.ts, which loads the ui/ modules only when the dashboard starts.

import { ALL_FLAG, COLLECTION_FLAGS } from '../collection-flags.js';
import type { CommandSpec } from '../command.js';
import { FLEET_DASHBOARD_FLAGS, FLEET_FLAGS, FLEET_WRITE_FLAGS } from '../fleet-flags.js';
import { AUDIT_FLAG } from './limit.js';
import { STORE_FLAG } from './record.js';

const DASHBOARD_FLAGS = [
  {
    name: 'interval',
    short: 'i',
    type: 'string',
    value: 'DURATION',
    description: 'refresh interval (+ and - change it while running)',
    default: '1s',
  },
  {
    name: 'sort',
    short: 's',
    type: 'string',
    value: 'KEY',
    description: 'sort by cpu, mem, memPct, io, ioRead, ioWrite, net, pids, quota, throttled, psi, name, path, runtime',
    default: 'cpu',
  },
  { name: 'reverse', short: 'r', type: 'boolean', description: 'reverse the sort order' },
  {
    name: 'filter',
    short: 'f',
    type: 'string',
    value: 'REGEX',
    description: 'only cgroups whose name, id or image matches (case-insensitive)',
  },
  { name: 'tree', short: 't', type: 'boolean', description: 'start in the tree view of the cgroup hierarchy' },
  ALL_FLAG,
  ...COLLECTION_FLAGS,
  ...FLEET_FLAGS,
  ...FLEET_WRITE_FLAGS,
  ...FLEET_DASHBOARD_FLAGS,
  STORE_FLAG,
  { ...AUDIT_FLAG, description: 'with --at: the audit log whose limit changes the replay marks' },
] as const satisfies CommandSpec['flags'];

export const dashboardCommand: CommandSpec = {
  name: 'dashboard',
  summary: 'The interactive dashboard (what `tstop` runs on a terminal): containers, limits, actions.',
  usage: 'dashboard [--interval DURATION] [--sort KEY] [--filter REGEX] [--tree] [--all]',
  description:
    'Plain `tstop` (or `tstop --sort mem ...`) starts the dashboard when stdout is a terminal,\n' +
    'and prints `tstop snapshot` otherwise. Press ? in the dashboard for every key.\n' +
    'Limit, freeze and signal actions need root.\n' +
    '`tstop --at TIME [--store DIR]` replays a recording (tstop record): , . step a sample, < > a minute,\n' +
    '[ ] an hour, @ jumps to a typed time; actions are off (docs/record.md).',
  flags: [...DASHBOARD_FLAGS],
  examples: [
    'tstop',
    'tstop --interval 2s --sort mem --filter web --tree',
    'tstop dashboard --root /host',
    "tstop --at '10m ago' --store /var/lib/tstop/store",
    'tstop --prometheus http://prometheus:9090 --match \'{job="tstop"}\' --tree',
  ],
  run: async (flags) => (await import('../dashboard.js')).runDashboard(flags),
};
