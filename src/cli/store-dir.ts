// Where the flight recorder's store is: one small module, so the readers of
// a store (`snapshot --at`, the replay, the what-if) do not load the recorder.

import { stringFlag, type ParsedFlags } from './command.js';

export const DEFAULT_STORE = '/var/lib/tstop/store';

/** --store, else $TSTOP_STORE, else /var/lib/tstop/store. */
export function storeDir(flags: ParsedFlags): string {
  return stringFlag(flags, 'store') ?? (process.env.TSTOP_STORE || DEFAULT_STORE);
}
