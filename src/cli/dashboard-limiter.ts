// The limiter behind the dashboard's l / f / K actions. The dashboard only
// sees the Limiter interface (src/limiter/api.ts); this is the one place that
// chooses the implementation.
// TODO(lead, when src/limiter lands): return the real limiter here, e.g.
//   return new CgroupLimiter({ root: options.root });

import { LimitError, type Limiter } from '../limiter/api.js';
import type { CollectorOptions } from '../model/collector.js';

const NOT_WIRED = 'limit changes are not available in this build yet (the limiter is not wired into the dashboard)';

/** A limiter that refuses every change with a clear message (until the real one is wired). */
export const unavailableLimiter: Limiter = {
  plan: () => Promise.reject(new LimitError(NOT_WIRED, 1)),
  apply: () => Promise.reject(new LimitError(NOT_WIRED, 1)),
  setFrozen: () => Promise.reject(new LimitError(NOT_WIRED, 1)),
  kill: () => Promise.reject(new LimitError(NOT_WIRED, 1)),
};

export function createDashboardLimiter(options: CollectorOptions): Limiter {
  void options;
  return unavailableLimiter;
}
