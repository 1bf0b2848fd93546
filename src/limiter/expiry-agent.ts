// An agent's share of the expiries (tstop record, export, guard; see
// expiry.ts): it marks itself as an agent, takes the runner lock when free
// (a reverter that finished, or one killed with kill -9), runs what is due,
// and on stop hands what is still pending to a new detached reverter.
// Most agents never see a pending expiry, so the limiter and the runner
// (expiry-runner.ts: plans, apply, cgroup writes; ~20 modules and ~2 MB of
// a long-running exporter's RSS) load only once one is pending: until then
// a tick is a stat of the audit log and the locks.

import { AuditLog } from './audit.js';
import { ensureReverter, ExpiryLock, PendingExpiryReader } from './expiry.js';
import type { ExpiryRunner, ExpiryRunnerOptions } from './expiry-runner.js';
import type { CgroupLimiter } from './limiter.js';

export interface ExpiryAgentSource {
  auditFile: string;
  /** --root, for the reverter started on stop. */
  root?: string;
  /** The limiter that reverts, asked for when the first expiry is pending. */
  limiter: () => CgroupLimiter | Promise<CgroupLimiter>;
}

export class ExpiryAgent {
  readonly lock: ExpiryLock;
  private readonly audit: AuditLog;
  private readonly reader: PendingExpiryReader;
  private runner: Promise<ExpiryRunner> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastError = '';

  constructor(
    private readonly source: ExpiryAgentSource,
    private readonly options: ExpiryRunnerOptions & { pollMs?: number },
  ) {
    this.audit = new AuditLog(source.auditFile);
    this.lock = new ExpiryLock(source.auditFile);
    this.reader = new PendingExpiryReader(this.audit);
  }

  /** Whether the limiter and the runner were loaded (an expiry was pending while this agent held the lock). */
  get runnerLoaded(): boolean {
    return this.runner !== null;
  }

  /** Pending expiries of the audit log (tstop_limit_expiry_pending); null when the log cannot be read. */
  pendingCount(): number | null {
    try {
      return this.reader.read().length;
    } catch (err) {
      this.report(err);
      return null;
    }
  }

  start(): this {
    this.schedule(0);
    return this;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => (this.running = null));
    }, ms);
    this.timer.unref();
  }

  private loadRunner(): Promise<ExpiryRunner> {
    return (this.runner ??= (async () => {
      const [{ ExpiryRunner }, limiter] = await Promise.all([import('./expiry-runner.js'), this.source.limiter()]);
      return new ExpiryRunner(limiter, this.options);
    })());
  }

  private async tick(): Promise<void> {
    const pollMs = this.options.pollMs ?? 1_000;
    let wait = pollMs;
    try {
      this.lock.markAgent();
      if (!this.lock.held && this.lock.tryTake(this.options.role)) {
        const n = this.reader.read().length;
        if (n > 0) this.options.log(`taking over ${n} pending expir${n === 1 ? 'y' : 'ies'}`);
      }
      if (this.lock.held && (this.runner !== null || this.reader.read().length > 0)) {
        const next = await (await this.loadRunner()).runDue();
        if (next !== null) wait = Math.min(pollMs, Math.max(10, next - Date.now()));
      }
      this.lastError = '';
    } catch (err) {
      // A limiter that failed to load is asked for again at the next tick.
      if (this.runner) await this.runner.catch(() => (this.runner = null));
      this.report(err);
    }
    this.schedule(wait);
  }

  /** Logs a failure once (until a different one, or a success, comes). */
  private report(err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    if (why !== this.lastError) this.options.log(`expiries: ${why}`);
    this.lastError = why;
  }

  /** Stops, releases the lock, and starts a reverter for what is still pending. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.lock.unmarkAgent();
    this.lock.release();
    try {
      if (ensureReverter(this.source.auditFile, this.audit.changes(), this.source.root))
        this.options.log(`handed ${this.reader.read().length} pending expiries to a detached reverter`);
    } catch (err) {
      this.options.log(`expiries: no reverter started (${err instanceof Error ? err.message : String(err)})`);
    }
  }
}
