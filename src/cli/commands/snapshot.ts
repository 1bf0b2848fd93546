// `tstop snapshot`: flags and help; the implementation is in ../snapshot.ts.

import { ALL_FLAG, COLLECTION_FLAGS, FILTER_FLAG } from '../collection-flags.js';
import type { CommandSpec } from '../command.js';
import { STORE_FLAG } from './shared-flags.js';
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
    description: 'time between samples: rates (CPU %, bytes/s) are over it; 0: one sample, rates null',
    default: '1s',
  },
  FILTER_FLAG,
  ALL_FLAG,
  STORE_FLAG,
  {
    name: 'at',
    type: 'string',
    value: 'TIME',
    description: "the recorded sample at or just before TIME ('10m ago', '03:12', ISO 8601, '@epoch')",
  },
  {
    name: 'from',
    type: 'string',
    value: 'TIME',
    description: 'every recorded sample from TIME (JSON Lines with --json)',
  },
  { name: 'to', type: 'string', value: 'TIME', description: 'with --from: up to TIME', default: 'now' },
  { name: 'step', type: 'string', value: 'DURATION', description: 'with --from/--to: one sample per step (1m)' },
  ...COLLECTION_FLAGS,
  ...FLEET_FLAGS.filter((f) => f.name !== 'at'), // --at is one flag: the store's or, with --prometheus, Prometheus's time
] as const satisfies CommandSpec['flags'];

export const snapshotCommand: CommandSpec = {
  name: 'snapshot',
  summary: 'Print the containers and cgroups of this host with their CPU, memory, io and pids, then exit.',
  usage:
    'snapshot [--json|--csv] [--count N] [--interval DURATION] [--filter REGEX] [--all]\n' +
    '       tstop snapshot --store DIR (--at TIME | --from TIME [--to TIME] [--step DURATION]) [--json|--csv]',
  description:
    'Rates (CPU %, bytes/s) need two samples: as docker stats --no-stream, tstop samples once, waits\n' +
    '--interval (1s) and prints the second sample with its rates. --interval 0 prints a single sample\n' +
    'at once, its rates "-" (null in JSON).\n' +
    'JSON field names are documented in docs/snapshot.schema.json.',
  flags: [...SNAPSHOT_FLAGS],
  examples: [
    'tstop snapshot',
    'tstop snapshot --json --count 5 --interval 2s --filter web',
    'tstop snapshot --csv --count 60 > usage.csv',
    'tstop snapshot --root /host --all',
    "tstop snapshot --store /var/lib/tstop/store --at '10m ago' --json",
    'tstop snapshot --from 03:00 --to 03:30 --step 1m --csv',
    'tstop snapshot --prometheus http://prometheus:9090 --instance "web-.*" --json',
  ],
  run: async (flags) => (await import('../snapshot.js')).runSnapshot(flags),
};
