// Flags several commands share, in one place so that command files import
// each other's flags without cycles (limit's --what-if reads the store,
// record and guard write the audit log).

import type { FlagSpec } from '../command.js';

export const AUDIT_FLAG: FlagSpec = {
  name: 'audit-log',
  type: 'string',
  value: 'FILE',
  description: 'the audit log (JSON Lines)',
  default: '$TSTOP_AUDIT_LOG or /var/log/tstop/audit.jsonl',
};

export const STORE_FLAG = {
  name: 'store',
  type: 'string',
  value: 'DIR',
  description: 'the recorder store directory (else $TSTOP_STORE, else /var/lib/tstop/store)',
} as const;
