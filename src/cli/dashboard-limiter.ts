// The limiter behind the dashboard's l / f / K actions. The dashboard only
// sees the Limiter interface (src/limiter/api.ts); this is the one place that
// chooses the implementation. It resolves containers against the dashboard's
// own latest snapshot, so an action costs no extra collection.

import { LimitError, type Limiter } from '../limiter/api.js';
import { createLimiter } from '../limiter/limiter.js';
import { notifyingLimiter } from '../limiter/notify.js';
import { AuditLog, auditLogPath } from '../limiter/audit.js';
import { PendingExpiryReader } from '../limiter/expiry.js';
import type { Collector, CollectorOptions } from '../collect/collector.js';
import type { CollectFocus, ContainerSnapshot, Snapshot } from '../model/types.js';

/**
 * The dashboard's collector: watching (inotify keeps the tree current; a queue
 * overflow rescans at once), with the safety-net rescan every 2 min instead of
 * 30 s: a walk of every hierarchy costs about as much CPU as 3-5 ticks at
 * 1,000 cgroups. Only cgroups an exhausted inotify watch limit hides wait for it.
 */
export const DASHBOARD_COLLECTOR: Pick<CollectorOptions, 'watch' | 'rescanIntervalMs'> = {
  watch: true,
  rescanIntervalMs: 120_000,
};

/** A collector that remembers its latest snapshot for the limiter. */
export class RememberingSource {
  latest: Snapshot | null = null;
  constructor(private readonly collector: Collector) {}
  collect(): Snapshot {
    this.latest = this.collector.collect();
    return this.latest;
  }
  close(): void {
    this.collector.close();
  }
  invalidateSettings(id: string): void {
    this.collector.invalidateSettings(id);
  }
  focus(focus: CollectFocus | null): void {
    this.collector.focus(focus);
  }
  staleFields(id: string): readonly (keyof ContainerSnapshot)[] {
    return this.collector.staleFields(id);
  }
}

export function createDashboardLimiter(options: CollectorOptions, source: RememberingSource): Limiter {
  const limiter = createLimiter({
    root: options.root,
    collector: options,
    snapshot: () => source.latest ?? source.collect(),
  });
  // The next tick shows the new limits at once, not at the next settings refresh.
  return notifyingLimiter(limiter, (id) => source.invalidateSettings(id));
}

/** A limiter that refuses every change (for headless screens: the benchmark, rendering tests). */
export const unavailableLimiter: Limiter = {
  plan: () => Promise.reject(new LimitError('limit changes are not available here', 1)),
  apply: () => Promise.reject(new LimitError('limit changes are not available here', 1)),
  setFrozen: () => Promise.reject(new LimitError('limit changes are not available here', 1)),
  kill: () => Promise.reject(new LimitError('limit changes are not available here', 1)),
};

/** The header's pending expiries (limit --for): read from the audit log only when it changed; none if unreadable. */
export function dashboardExpiries(): () => { name: string; deadlineMs: number }[] {
  let reader: PendingExpiryReader | null = null;
  return () => {
    try {
      reader ??= new PendingExpiryReader(new AuditLog(auditLogPath()));
      return reader
        .read()
        .map((p) => ({ name: p.change.container.name || p.change.container.id, deadlineMs: p.deadlineMs }));
    } catch {
      return []; // not root, or no audit log to read: nothing to show
    }
  };
}
