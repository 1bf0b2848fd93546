// What the long-running tstop processes (record, export, guard) do besides
// their own work: run the audit log's expiries (src/limiter/expiry-runner.ts)
// and, with --guard FILE, the guard rules (src/guard) on their own snapshots.

import { Collector, type CollectorOptions } from '../collect/collector.js';
import type { AgentState } from '../exporter/agent-families.js';
import type { GuardRunner } from '../guard/runner.js';
import { auditLogPath } from '../limiter/audit.js';
import { ExpiryAgent } from '../limiter/expiry-agent.js';
import type { CgroupLimiter } from '../limiter/limiter.js';
import { printable } from '../util/format.js';
import { UsageError } from '../util/errors.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';

export interface Agent {
  expiries: ExpiryAgent;
  /** With --guard: the rules' runner (its counters and firing gauges feed the exporter). */
  guard: GuardRunner | null;
  /** Stops the guard loop (pending thaws run) and hands pending expiries to a reverter. */
  stop(): Promise<void>;
}

/** A timestamped line on stderr (the agents' stdout is theirs). */
export function agentLog(role: string): (line: string) => void {
  return (line) => void process.stderr.write(`${new Date().toISOString()} tstop ${role}: ${printable(line)}\n`);
}

/**
 * Starts the agent's share of tstop's standing work: the expiries of the
 * audit log (--audit-log) and, with --guard FILE, the guard rules, on the
 * agent's own collector (shared: a second collector would hold a second set
 * of descriptors per cgroup). Flag mistakes (a bad rules file) throw before
 * anything starts.
 */
export async function startAgent(
  role: string,
  flags: ParsedFlags,
  options: CollectorOptions,
  collector: Promise<Collector> | Collector,
): Promise<Agent> {
  const log = agentLog(role);
  const guardFile = stringFlag(flags, 'guard');
  const intervalMs = durationFlag(flags, 'guard-interval', '1s');
  if (guardFile === undefined && flags['guard-interval'] !== undefined)
    throw new UsageError('--guard-interval is only used with --guard FILE');
  if (intervalMs < 100) throw new UsageError('--guard-interval: at least 100ms');
  // The guard's modules (rules, YAML) load only with --guard: the recorder starts as fast as before.
  const guardModules =
    guardFile === undefined ? null : await Promise.all([import('./guard.js'), import('../guard/runner.js')]);
  const rules =
    guardModules && guardModules[0].loadGuardRules(guardFile!, guardModules[0].hostAbilities(options.root ?? '/'));
  const auditLog = stringFlag(flags, 'audit-log');
  // The limiter loads when the guard needs it, or when an expiry is pending (src/limiter/expiry-agent.ts).
  const newLimiter = async (): Promise<CgroupLimiter> =>
    (await import('../limiter/limiter.js')).createLimiter({ root: options.root, collector: options, auditLog });
  const limiter = rules ? await newLimiter() : null;
  const expiries = new ExpiryAgent(
    { auditFile: auditLogPath(auditLog), root: options.root, limiter: () => limiter ?? newLimiter() },
    { role, log },
  ).start();
  let guard: GuardRunner | null = null;
  let loop: { stop(): Promise<void> } | null = null;
  if (rules && guardModules && limiter) {
    const { GuardRunner } = guardModules[1];
    let shared: Collector | null = null;
    const ready = Promise.resolve(collector).then((c) => {
      c.keepSnapshots(); // its collections come between the other face's: each snapshot keeps its own containers
      shared = c;
      return c.ready();
    });
    const source = { collect: () => shared!.collect() };
    guard = new GuardRunner({ rules, source, limiter, dryRun: false, log });
    loop = guard.loop(intervalMs, ready);
    log(`guard: ${rules.length} rule(s) from ${guardFile}, every ${intervalMs} ms`);
  }
  let stopped: Promise<void> | null = null;
  return {
    expiries,
    guard,
    stop: () =>
      (stopped ??= (async () => {
        await loop?.stop();
        await expiries.stop();
      })()),
  };
}

/** What the exporter's agent families show (src/exporter/agent-families.ts). */
export function agentState(agent: Agent): AgentState {
  const g = agent.guard;
  return {
    rules: g ? g.engine.rules.map((r) => ({ name: r.name, action: r.action.kind })) : [],
    actions: g ? g.counters.actions : new Map(),
    firing: g ? g.engine.firing : new Map(),
    expiryPending: agent.expiries.pendingCount(),
  };
}
