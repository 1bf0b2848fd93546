// The limit flags (`tstop limit`, `tstop run`) as a LimitRequest: one loop
// over the limiter's field table.

import type { LimitRequest } from '../limiter/api.js';
import { LIMIT_FIELDS } from '../limiter/fields.js';
import { listFlag, stringFlag, type ParsedFlags } from './command.js';

export function limitRequestFromFlags(flags: ParsedFlags): LimitRequest {
  const req: Record<string, string | string[]> = {};
  for (const f of LIMIT_FIELDS) {
    if (f.multiple) {
      const list = listFlag(flags, f.flag);
      if (list.length > 0) req[f.key] = list;
    } else {
      const v = stringFlag(flags, f.flag);
      if (v !== undefined) req[f.key] = v;
    }
  }
  return req as LimitRequest;
}
