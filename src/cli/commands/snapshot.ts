// `tstop snapshot`: flags and help; the implementation is in ../snapshot.ts.

import { ALL_FLAG, COLLECTION_FLAGS } from '../collection-flags.js';
import type { CommandSpec } from '../command.js';
import { FLEET_FLAGS } from '../fleet-flags.js';

const SNAPSHOT_FLAGS = [
  { name: 'json', type: 'boolean', description: 'print each tick as one JSON document (JSON Lines when --count > 1)' },
  { name: 'csv', type: 'boolean', description: 'print CSV (one header, then one row per cgroup per tick)' },
  { name: 'count', short: 'n', type: 'string', value: 'N', description: 'number of ticks to print', default: '1' },
  {
    name: 'interval',
    short: 'i',
    type: 'string',
    value: 'DURATION',
    description: 'time between ticks: 0 (back to back), 500ms, 2s',
    default: '1s',
  },
  { name: 'filter', short: 'f', type: 'string', value: 'REGEX', description: 'only cgroups whose id or name matches' },
  ALL_FLAG,
  ...COLLECTION_FLAGS,
  ...FLEET_FLAGS,
] as const satisfies CommandSpec['flags'];

export const snapshotCommand: CommandSpec = {
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
    'tstop snapshot --prometheus http://prometheus:9090 --instance "web-.*" --json',
  ],
  run: async (flags) => (await import('../snapshot.js')).runSnapshot(flags),
};
