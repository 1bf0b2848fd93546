// `tstop record`: flags and help; the implementation is in ../record.ts.

import { COLLECTION_FLAGS } from '../collection-flags.js';
import type { CommandSpec } from '../command.js';
import { AGENT_FLAGS } from './agent-flags.js';
import { AUDIT_FLAG, STORE_FLAG } from './shared-flags.js';

export const recordCommand: CommandSpec = {
  name: 'record',
  summary: 'Record every cgroup at each interval into an embedded store, for replay (snapshot --at).',
  usage: 'record [--store DIR] [--interval 5s] [--retain 7d] [--max-size 2GiB]',
  description:
    'Runs in the foreground; SIGTERM or SIGINT finish the current sample, close the store and exit 0.\n' +
    'One recorder per store: a second one refuses. Retention and the size cap hold after every sample.\n' +
    'It also runs the expiries of the audit log (limit --for) and, with --guard FILE, guard rules.',
  flags: [
    STORE_FLAG,
    {
      name: 'interval',
      short: 'i',
      type: 'string',
      value: 'DURATION',
      description: 'time between samples',
      default: '5s',
    },
    { name: 'retain', type: 'string', value: 'DURATION', description: 'drop samples older than this', default: '7d' },
    {
      name: 'max-size',
      type: 'string',
      value: 'SIZE',
      description: 'cap on the store size (KiB, MiB, GiB)',
      default: '2GiB',
    },
    ...AGENT_FLAGS,
    AUDIT_FLAG,
    ...COLLECTION_FLAGS,
  ],
  examples: ['tstop record', 'tstop record --store /data/tstop --interval 1s --retain 2d --max-size 500MiB'],
  run: async (flags) => (await import('../record.js')).runRecord(flags),
};
