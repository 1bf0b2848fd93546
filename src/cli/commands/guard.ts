// `tstop guard`: flags and help; the implementation is in ../guard.ts.

import { COLLECTION_FLAGS } from '../collection-flags.js';
import type { CommandSpec } from '../command.js';
import { AUDIT_FLAG } from './shared-flags.js';

export const guardCommand: CommandSpec = {
  name: 'guard',
  summary: 'Run guard rules: freeze, cap, kill or notify when a container crosses a line for a while.',
  usage: 'guard --config FILE [--dry-run] [--interval DURATION] [--audit-log FILE]',
  description: [
    'Rules are YAML (docs/guard.md). Each interval tstop takes a snapshot and evaluates every rule;',
    'a rule acts on one container at a time (prefer/avoid/orderBy choose which), then waits its',
    'cooldown. Actions go through the limiter: audited with via "guard" and the rule name, refused',
    'as `tstop limit` refuses (non-containers only with allowSystem: true in the rule).',
    '--dry-run logs what each rule would do, with the values that triggered it, and writes nothing.',
    'SIGINT/SIGTERM: pending thaws (thawAfter) run at once, then exit 0. A limit --for is a limit that',
    'expires (tstop limit --help): its old values come back at the deadline even after the guard stops.',
    'Rules can also run inside tstop record / tstop export (--guard FILE).',
  ].join('\n'),
  flags: [
    { name: 'config', short: 'c', type: 'string', value: 'FILE', description: 'the rules (YAML)' },
    { name: 'dry-run', type: 'boolean', description: 'log what the rules would do; write nothing' },
    {
      name: 'interval',
      short: 'i',
      type: 'string',
      value: 'DURATION',
      description: 'time between evaluations',
      default: '1s',
    },
    { name: 'check', type: 'boolean', description: 'only check the rules file and exit (0: valid)' },
    AUDIT_FLAG,
    ...COLLECTION_FLAGS,
  ],
  examples: ['tstop guard --config /etc/tstop/guard.yml', 'tstop guard --config rules.yml --dry-run --interval 2s'],
  run: async (flags) => (await import('../guard.js')).runGuard(flags),
};
