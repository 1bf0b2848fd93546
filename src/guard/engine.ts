// Evaluates guard rules on snapshots: which containers satisfy a rule's
// conditions, for how long, and whether the rule acts now (sustained for
// `for`, out of its cooldown, under maxActionsPerHour). Pure: the same
// snapshots and times give the same decisions, which is why a dry run
// (src/guard/runner.ts logging them) fires exactly as a real run does.

import type { ContainerSnapshot, Snapshot } from '../model/types.js';
import type { Condition, GuardAction, GuardRule } from './rules.js';

export interface GuardDecision {
  rule: string;
  action: GuardAction;
  container: { id: string; name: string };
  /** The values that made it fire, by field path. */
  values: Record<string, number>;
  /** How long the conditions have held, ms. */
  heldMs: number;
}

interface RuleState {
  /** container id -> when its conditions started to hold (ms). */
  since: Map<string, number>;
  lastActionMs: number;
  /** Action times within the last hour. */
  recent: number[];
}

const HOUR_MS = 3_600_000;

function compare(v: number, c: Condition): boolean {
  switch (c.op) {
    case '>':
      return v > c.value;
    case '>=':
      return v >= c.value;
    case '<':
      return v < c.value;
    case '<=':
      return v <= c.value;
    case '==':
      return v === c.value;
    case '!=':
      return v !== c.value;
  }
}

export function matches(rule: GuardRule, c: ContainerSnapshot): boolean {
  if (c.id === '/') return false; // the root cgroup is never acted on
  if (c.runtime === 'cgroup' && !rule.allowSystem) return false;
  return rule.match.test(c.name) || rule.match.test(c.id) || (c.containerId !== null && rule.match.test(c.containerId));
}

/** The conditions' values if the rule's conditions hold for c, else null (an unknown value never holds). */
export function holds(
  rule: GuardRule,
  c: ContainerSnapshot,
  previous: ContainerSnapshot | null,
): Record<string, number> | null {
  const values: Record<string, number> = {};
  let any = false;
  let all = true;
  for (const cond of rule.conditions) {
    const v = cond.read(c, previous);
    const ok = v !== null && compare(v, cond);
    if (v !== null) values[cond.field] = v;
    any ||= ok;
    all &&= ok;
  }
  return (rule.combine === 'all' ? all : any) ? values : null;
}

export class GuardEngine {
  private readonly state = new Map<string, RuleState>();
  private previous = new Map<string, ContainerSnapshot>();

  constructor(readonly rules: readonly GuardRule[]) {
    for (const r of rules) this.state.set(r.name, { since: new Map(), lastActionMs: -Infinity, recent: [] });
  }

  /** Containers whose conditions currently hold for `for` or longer, per rule (tstop_guard_rule_firing). */
  readonly firing = new Map<string, number>();

  /** One evaluation on a snapshot taken at nowMs; returns at most one decision per rule. */
  evaluate(snapshot: Snapshot, nowMs: number): GuardDecision[] {
    const decisions: GuardDecision[] = [];
    for (const rule of this.rules) {
      const st = this.state.get(rule.name)!;
      const seen = new Set<string>();
      const ready: { c: ContainerSnapshot; values: Record<string, number>; heldMs: number }[] = [];
      for (const c of snapshot.containers) {
        if (!matches(rule, c)) continue;
        const prev = this.previous.get(c.id) ?? null;
        const values = holds(rule, c, prev && prev.inode === c.inode ? prev : null);
        if (!values) continue;
        seen.add(c.id);
        const since = st.since.get(c.id) ?? nowMs;
        st.since.set(c.id, since);
        if (nowMs - since >= rule.forMs) ready.push({ c, values, heldMs: nowMs - since });
      }
      for (const id of st.since.keys()) if (!seen.has(id)) st.since.delete(id);
      this.firing.set(rule.name, ready.length);
      st.recent = st.recent.filter((t) => nowMs - t < HOUR_MS);
      if (ready.length === 0) continue;
      if (nowMs - st.lastActionMs < rule.cooldownMs) continue;
      if (st.recent.length >= rule.maxActionsPerHour) continue;
      const chosen = ready.sort((a, b) => order(rule, a.c, b.c, this.previous))[0];
      st.lastActionMs = nowMs;
      st.recent.push(nowMs);
      // It has to hold for `for` again before the rule acts on it again.
      st.since.delete(chosen.c.id);
      decisions.push({
        rule: rule.name,
        action: rule.action,
        container: { id: chosen.c.id, name: chosen.c.name },
        values: chosen.values,
        heldMs: chosen.heldMs,
      });
    }
    this.previous = new Map(snapshot.containers.map((c) => [c.id, c]));
    return decisions;
  }
}

/** prefer-matching first, avoid-matching last, then the largest orderBy value, then by id (stable). */
function order(
  rule: GuardRule,
  a: ContainerSnapshot,
  b: ContainerSnapshot,
  previous: Map<string, ContainerSnapshot>,
): number {
  const rank = (c: ContainerSnapshot): number => {
    const name = (re: RegExp | null): boolean => re !== null && (re.test(c.name) || re.test(c.id));
    return name(rule.prefer) ? 0 : name(rule.avoid) ? 2 : 1;
  };
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  if (rule.orderBy) {
    const va = rule.orderBy.read(a, previous.get(a.id) ?? null) ?? -Infinity;
    const vb = rule.orderBy.read(b, previous.get(b.id) ?? null) ?? -Infinity;
    if (va !== vb) return vb - va;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
