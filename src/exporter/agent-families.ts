// The families of what an exporting agent does besides collecting
// (`tstop export --guard FILE`, and the expiries every agent runs), in
// families.ts's style: name, type and HELP declared once with the emitter.
// The exporter reads them from an AgentState at scrape time.

import { escapeLabelValue, TextWriter, type MetricType } from './text.js';

export interface AgentState {
  /** With --guard: each rule's name and action kind, in the file's order. */
  rules: { name: string; action: string }[];
  /** rule -> action -> actions taken since start. */
  actions: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** rule -> containers whose conditions held for `for` at the last evaluation. */
  firing: ReadonlyMap<string, number>;
  /** The audit log's pending expiries (limit --for), null when it cannot be read. */
  expiryPending: number | null;
}

interface AgentFamily {
  name: string;
  type: MetricType;
  help: string;
  emit: (s: AgentState, w: TextWriter) => void;
}

function fam(name: string, type: MetricType, help: string, emit: AgentFamily['emit']): AgentFamily {
  return { name, type, help, emit };
}

const rule = (name: string): string => `rule="${escapeLabelValue(name)}"`;

export const AGENT_FAMILIES: AgentFamily[] = [
  fam(
    'tstop_guard_actions_total',
    'counter',
    'Actions guard rules took through the limiter (--guard), by rule and action (dry runs excluded).',
    (s, w) => {
      for (const r of s.rules) {
        const counted = s.actions.get(r.name) ?? new Map<string, number>();
        // The rule's own action from the start (0), so rate() sees the first one.
        const kinds = new Set([r.action, ...counted.keys()]);
        for (const action of kinds)
          w.sampleWith(`${rule(r.name)},action="${escapeLabelValue(action)}"`, counted.get(action) ?? 0);
      }
    },
  ),
  fam(
    'tstop_guard_rule_firing',
    'gauge',
    "Containers whose conditions had held for the rule's `for` at the last evaluation (--guard).",
    (s, w) => {
      for (const r of s.rules) w.sampleWith(rule(r.name), s.firing.get(r.name) ?? 0);
    },
  ),
  fam(
    'tstop_limit_expiry_pending',
    'gauge',
    'Limit changes made with --for whose old values have not come back yet (pending expiries in the audit log).',
    (s, w) => {
      if (s.expiryPending !== null) w.sample(s.expiryPending);
    },
  ),
];

/** The agent families as exposition text. */
export function renderAgentState(state: AgentState): string {
  const w = new TextWriter(1 << 10); // a few lines: not the 64 KiB buffer of an exposition, every scrape
  for (const f of AGENT_FAMILIES) {
    w.begin(f.name, f.type, f.help);
    f.emit(state, w);
  }
  return w.text();
}
