// The flags of the commands that are agents (record, export): guard rules run
// beside their own work (src/cli/agent.ts).

import type { FlagSpec } from '../command.js';

export const AGENT_FLAGS: FlagSpec[] = [
  {
    name: 'guard',
    type: 'string',
    value: 'FILE',
    description: 'also run these guard rules (docs/guard.md) in this process',
  },
  {
    name: 'guard-interval',
    type: 'string',
    value: 'DURATION',
    description: 'with --guard: time between rule evaluations',
    default: '1s',
  },
];
