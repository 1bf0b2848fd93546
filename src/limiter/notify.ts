// A limiter that tells a collector what it changed, so the next tick re-reads
// that cgroup's settings (the collector serves settings from memory between
// refreshes: without this a new limit would show up to 10 s late).

import type { Limiter } from './api.js';

export function notifyingLimiter(limiter: Limiter, changed: (cgroupId: string) => void): Limiter {
  return {
    plan: (ref, request, options) => limiter.plan(ref, request, options),
    apply: async (plan, invocation) => {
      try {
        return await limiter.apply(plan, invocation);
      } finally {
        changed(plan.container.id); // also after a failure: a rollback writes too
      }
    },
    // Freezing changes cgroup.freeze (re-read on the tick after a write, seen by inotify) / freezer.state (read every tick).
    setFrozen: (ref, frozen, invocation, options) => limiter.setFrozen(ref, frozen, invocation, options),
    kill: (ref, signal, invocation, options) => limiter.kill(ref, signal, invocation, options),
  };
}
