// `tstop guard`: each interval, a snapshot, the rules' decisions, and the
// actions through the limiter (audited with via 'guard' and the rule's
// name, refused as `tstop limit` refuses). With --dry-run the same decisions
// are logged and nothing is written. Pending thaws (thawAfter) are kept by
// this process and run at their deadline (or at stop); `limit --for` is a
// durable expiry in the audit log, run by the limiter's expiry runner.

import type { Invocation, Limiter, LimiterHistory } from '../limiter/api.js';
import { LimitError } from '../limiter/api.js';
import type { SnapshotSource } from '../model/types.js';
import { GuardEngine, type GuardDecision } from './engine.js';
import type { GuardRule } from './rules.js';

export interface GuardRunnerOptions {
  rules: readonly GuardRule[];
  source: SnapshotSource;
  /** null with dryRun. */
  limiter: (Limiter & LimiterHistory) | null;
  dryRun: boolean;
  /** One line per decision, action, skip or failure. */
  log: (line: string) => void;
  now?: () => number;
}

interface Pending {
  atMs: number;
  rule: string;
  what: string;
  run: () => Promise<string>;
}

export interface GuardCounters {
  /** rule -> action -> count (tstop_guard_actions_total). */
  actions: Map<string, Map<string, number>>;
}

function describe(d: GuardDecision): string {
  const a = d.action;
  const action =
    a.kind === 'kill'
      ? `kill ${a.signal}`
      : a.kind === 'limit'
        ? `limit ${Object.entries(a.request)
            .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
            .join(' ')}${a.forMs !== null ? ` for ${a.forMs / 1000}s` : ''}`
        : a.kind;
  const values = Object.entries(d.values)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(' ');
  return `rule ${d.rule}: ${action} ${d.container.name} (${d.container.id}): ${values}, held ${(d.heldMs / 1000).toFixed(1)}s`;
}

export class GuardRunner {
  readonly engine: GuardEngine;
  readonly counters: GuardCounters = { actions: new Map() };
  private pending: Pending[] = [];
  private readonly now: () => number;

  constructor(private readonly options: GuardRunnerOptions) {
    if (!options.dryRun && !options.limiter) throw new Error('a guard that acts needs a limiter');
    this.engine = new GuardEngine(options.rules);
    this.now = options.now ?? (() => Date.now());
  }

  /** Pending thaws (thawAfter). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** One round: due thaws, then a snapshot and its decisions. Returns the decisions. */
  async tick(): Promise<GuardDecision[]> {
    await this.runDue();
    const snapshot = this.options.source.collect();
    const decisions = this.engine.evaluate(snapshot, this.now());
    for (const d of decisions) await this.act(d);
    return decisions;
  }

  /** Ticks every intervalMs (after ready) until stop(), which then runs the pending thaws. */
  loop(intervalMs: number, ready: Promise<void> = Promise.resolve()): { stop(): Promise<void> } {
    let stopping = false;
    let wake: (() => void) | null = null;
    let stopped: () => void = () => undefined;
    const stopRequested = new Promise<void>((resolve) => (stopped = resolve));
    const done = (async () => {
      await Promise.race([ready, stopRequested]); // a source that never came (its command failed) ends the loop too
      while (!stopping) {
        await this.tick();
        if (stopping) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, intervalMs);
        });
      }
      await this.flush();
    })();
    return {
      stop: async () => {
        stopping = true;
        stopped();
        wake?.();
        await done;
      },
    };
  }

  /** Runs every pending thaw now (on shutdown they are run, not dropped). */
  async flush(): Promise<void> {
    await this.runDue(Infinity);
  }

  private async runDue(until = this.now()): Promise<void> {
    const due = this.pending.filter((p) => p.atMs <= until);
    this.pending = this.pending.filter((p) => p.atMs > until);
    for (const p of due) {
      try {
        this.options.log(`rule ${p.rule}: ${p.what}: ${await p.run()}`);
      } catch (err) {
        this.options.log(`rule ${p.rule}: ${p.what} failed: ${(err as Error).message}`);
      }
    }
  }

  private count(rule: string, action: string): void {
    const m = this.counters.actions.get(rule) ?? new Map<string, number>();
    m.set(action, (m.get(action) ?? 0) + 1);
    this.counters.actions.set(rule, m);
  }

  private async act(d: GuardDecision): Promise<void> {
    const text = describe(d);
    if (this.options.dryRun) {
      this.options.log(`${text} [dry run: nothing written]`);
      this.count(d.rule, d.action.kind);
      return;
    }
    const limiter = this.options.limiter!;
    const rule = this.options.rules.find((r) => r.name === d.rule)!;
    const inv: Invocation = { via: 'guard', rule: d.rule };
    const opts = { allowSystem: rule.allowSystem };
    const ref = d.container.id;
    try {
      const a = d.action;
      let id = '';
      if (a.kind === 'notify') {
        this.options.log(`${text} [notify]`);
        this.count(d.rule, 'notify');
        return;
      }
      if (a.kind === 'freeze' || a.kind === 'thaw') {
        id = (await limiter.setFrozen(ref, a.kind === 'freeze', inv, opts)).changeId;
        if (a.kind === 'freeze' && rule.thawAfterMs !== null) {
          this.pending.push({
            atMs: this.now() + rule.thawAfterMs,
            rule: d.rule,
            what: `thaw ${d.container.name} after ${rule.thawAfterMs / 1000}s`,
            run: async () => `done (change ${(await limiter.setFrozen(ref, false, inv, opts)).changeId})`,
          });
        }
      } else if (a.kind === 'kill') {
        id = (await limiter.kill(ref, a.signal, inv, opts)).changeId;
      } else {
        // --for: a durable expiry in the audit log (src/limiter/expiry.ts), run by whichever
        // agent or reverter holds the expiry lock, so it survives this process.
        const plan = await limiter.plan(ref, a.request, { ...opts, ...(a.forMs !== null ? { forMs: a.forMs } : {}) });
        id = (await limiter.apply(plan, inv)).changeId;
      }
      this.count(d.rule, a.kind);
      this.options.log(`${text} [done, change ${id}]`);
    } catch (err) {
      if (!(err instanceof LimitError)) throw err;
      this.options.log(`${text} [refused: ${err.message}]`);
    }
  }
}
