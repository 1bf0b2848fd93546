// Guard rules from YAML, checked before anything runs: every error names the
// line (an unknown field, a bad unit, an unknown snapshot field, an action
// the host cannot do), and the whole file is refused (exit 2).
//
//   rules:
//     - name: mem-hog
//       match: "web-*"                   # glob on container name, id or cgroup path
//       when: memory.usageBytes > 32MiB  # <snapshot field path> <op> <value with unit>
//       for: 2s                          # sustained this long
//       action: freeze                   # freeze | thaw | kill SIGTERM | limit --memory 1g --for 10m | notify

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { LimitError, type LimitRequest } from '../limiter/api.js';
import { LIMIT_FIELDS } from '../limiter/fields.js';
import { parseRequest } from '../limiter/plan/request.js';
import { parseBytes } from '../limiter/units.js';
import { DurationError, parseDurationMs } from '../util/duration.js';
import { parseForDuration } from '../limiter/expiry.js';
import { ExpectedError } from '../util/errors.js';
import { fieldReader, numericPaths, unitOf, type FieldReader } from './fields.js';

export class GuardConfigError extends ExpectedError {
  constructor(file: string, line: number | null, message: string) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${message}`, 2);
  }
}

export type Comparison = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface Condition {
  /** As written: "memory.usageBytes > 32MiB". */
  text: string;
  field: string;
  read: FieldReader;
  op: Comparison;
  value: number;
}

export type GuardAction =
  | { kind: 'freeze' }
  | { kind: 'thaw' }
  | { kind: 'notify' }
  | { kind: 'kill'; signal: string }
  | { kind: 'limit'; request: LimitRequest; forMs: number | null };

export interface GuardRule {
  name: string;
  /** The line of the rule in its file, for messages. */
  line: number;
  match: RegExp;
  /** 'all': every condition holds; 'any': at least one. */
  combine: 'all' | 'any';
  conditions: Condition[];
  forMs: number;
  action: GuardAction;
  /** After an action the rule waits this long before acting again (its rate limit). */
  cooldownMs: number;
  maxActionsPerHour: number;
  /** Among several firing containers: these globs first, those last, then by orderBy (largest first). */
  prefer: RegExp | null;
  avoid: RegExp | null;
  orderBy: { field: string; read: FieldReader } | null;
  /** freeze only: thaw again after this long. */
  thawAfterMs: number | null;
  /** Act on cgroups that are not containers (the limiter's --allow-system). */
  allowSystem: boolean;
}

export const DEFAULT_COOLDOWN_MS = 60_000;
export const DEFAULT_MAX_ACTIONS_PER_HOUR = 30;

const RULE_KEYS = [
  'name',
  'match',
  'when',
  'all',
  'any',
  'for',
  'action',
  'cooldown',
  'maxActionsPerHour',
  'prefer',
  'avoid',
  'orderBy',
  'thawAfter',
  'allowSystem',
] as const;

const SIGNALS = new Set([
  'SIGTERM',
  'SIGKILL',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGSTOP',
  'SIGCONT',
]);

/** A glob (* and ?) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const CONDITION_RE = /^\s*([A-Za-z0-9.]+)\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$/;

/** What the host can do, so a rule that cannot work is refused at load. */
export interface HostAbilities {
  freezer: boolean;
}

export function parseGuardConfig(text: string, file: string, host: HostAbilities = { freezer: true }): GuardRule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const lineOf = (n: Node | Pair | null | undefined): number | null => {
    const node = n && 'range' in n ? n : n && 'key' in n ? (n.key as Node | null) : null;
    const start = node && 'range' in node && node.range ? node.range[0] : null;
    return start === null ? null : lines.linePos(start).line;
  };
  const fail = (n: Node | Pair | null | undefined, message: string): never => {
    throw new GuardConfigError(file, lineOf(n), message);
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new GuardConfigError(file, e.linePos?.[0].line ?? null, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, "expected a map with a 'rules' list");
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key !== 'rules') fail(pair, `unknown field '${key}' (the file has one field: rules)`);
  }
  const list = root.get('rules', true);
  if (!isSeq(list) || list.items.length === 0) return fail(list ?? root, "'rules' must be a list of at least one rule");
  const names = new Set<string>();
  return list.items.map((item) => {
    if (!isMap(item)) return fail(item as Node, 'a rule is a map (name, match, when, for, action, ...)');
    const rule = parseRule(item, fail, lineOf(item) ?? 0, host);
    if (names.has(rule.name)) fail(item, `a second rule named '${rule.name}'`);
    names.add(rule.name);
    return rule;
  });
}

type Fail = (n: Node | Pair | null | undefined, message: string) => never;

function parseRule(map: YAMLMap, fail: Fail, line: number, host: HostAbilities): GuardRule {
  const fields = new Map<string, Pair>();
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!(RULE_KEYS as readonly string[]).includes(key)) {
      fail(pair, `unknown field '${key}' (fields: ${RULE_KEYS.join(', ')})`);
    }
    fields.set(key, pair);
  }
  const scalar = (key: string): { text: string; node: Node } | null => {
    const pair = fields.get(key);
    if (!pair) return null;
    const v = pair.value as Node | null;
    if (!isScalar(v) || v.value === null || typeof v.value === 'object') fail(pair, `'${key}' must be a single value`);
    return { text: String((v as { value: unknown }).value), node: v as Node };
  };
  const duration = (key: string): number | null => {
    const s = scalar(key);
    if (!s) return null;
    try {
      return parseDurationMs(s.text);
    } catch (err) {
      if (err instanceof DurationError) return fail(s.node, `${key}: ${err.message}`);
      throw err;
    }
  };
  const glob = (key: string): RegExp | null => {
    const s = scalar(key);
    return s ? globToRegExp(s.text) : null;
  };

  const name = scalar('name') ?? fail(map, "a rule needs a 'name'");
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name.text)) fail(name.node, `name '${name.text}': use 1-64 of A-Z a-z 0-9 _ . -`);

  const given = ['when', 'all', 'any'].filter((k) => fields.has(k));
  if (given.length !== 1) fail(map, `rule '${name.text}': give exactly one of 'when', 'all' or 'any'`);
  const combine: 'all' | 'any' = given[0] === 'any' ? 'any' : 'all';
  const conditionNodes: Node[] = [];
  if (given[0] === 'when') conditionNodes.push(fields.get('when')!.value as Node);
  else {
    const seq = fields.get(given[0])!.value;
    if (!isSeq(seq) || seq.items.length === 0) fail(fields.get(given[0]), `'${given[0]}' must be a list of conditions`);
    conditionNodes.push(...(seq as { items: Node[] }).items);
  }
  const conditions = conditionNodes.map((n) => parseCondition(n, fail));

  const orderByText = scalar('orderBy');
  let orderBy: GuardRule['orderBy'] = null;
  if (orderByText) {
    const read = fieldReader(orderByText.text);
    if (!read) fail(orderByText.node, `orderBy: '${orderByText.text}' is not a numeric snapshot field`);
    orderBy = { field: orderByText.text, read: read! };
  }

  const actionText = scalar('action') ?? fail(map, `rule '${name.text}' needs an 'action'`);
  const action = parseAction(actionText.text, actionText.node, fail, host);
  const thawAfterMs = duration('thawAfter');
  if (thawAfterMs !== null && action.kind !== 'freeze')
    fail(fields.get('thawAfter'), "'thawAfter' goes with action: freeze");

  const maxText = scalar('maxActionsPerHour');
  let maxActionsPerHour = DEFAULT_MAX_ACTIONS_PER_HOUR;
  if (maxText) {
    if (!/^\d{1,6}$/.test(maxText.text))
      fail(maxText.node, `maxActionsPerHour: '${maxText.text}' is not a whole number`);
    maxActionsPerHour = Number(maxText.text);
  }
  const allowText = scalar('allowSystem');
  if (allowText && allowText.text !== 'true' && allowText.text !== 'false') {
    fail(allowText.node, 'allowSystem is true or false');
  }
  return {
    name: name.text,
    line,
    match: glob('match') ?? /^/,
    combine,
    conditions,
    forMs: duration('for') ?? 0,
    action,
    cooldownMs: duration('cooldown') ?? DEFAULT_COOLDOWN_MS,
    maxActionsPerHour,
    prefer: glob('prefer'),
    avoid: glob('avoid'),
    orderBy,
    thawAfterMs,
    allowSystem: allowText?.text === 'true',
  };
}

function parseCondition(node: Node, fail: Fail): Condition {
  if (!isScalar(node) || typeof node.value !== 'string') {
    return fail(node, 'a condition is a string such as "memory.usageBytes > 32MiB"');
  }
  const text = node.value;
  const m = CONDITION_RE.exec(text);
  if (!m) return fail(node, `'${text}': expected <field> <op> <value>, op one of > >= < <= == !=`);
  const [, field, op, valueText] = m;
  const read = fieldReader(field);
  if (!read) {
    const near = numericPaths()
      .filter((p) => p.startsWith(field.split('.')[0] + '.'))
      .slice(0, 8);
    return fail(
      node,
      `'${field}' is not a numeric snapshot field${near.length ? ` (for example: ${near.join(', ')})` : ' (docs/snapshot.schema.json lists them)'}`,
    );
  }
  return { text, field, read, op: op as Comparison, value: parseThreshold(field, valueText, node, fail) };
}

/** A threshold in the field's unit: bytes take sizes (32MiB, 1g), percents an optional %, seconds durations. */
function parseThreshold(field: string, text: string, node: Node, fail: Fail): number {
  const unit = unitOf(field);
  try {
    if (unit === 'bytes') return Number(parseBytes(field, text));
    if (unit === 'seconds' && !/^\d+(\.\d+)?$/.test(text)) return parseDurationMs(text) / 1000;
  } catch (err) {
    if (err instanceof ExpectedError) return fail(node, err.message);
    throw err;
  }
  const plain = unit === 'percent' ? text.replace(/%$/, '') : text;
  if (!/^-?\d+(\.\d+)?$/.test(plain)) {
    return fail(node, `${field}: '${text}' is not a ${unit === 'percent' ? 'percentage (80, 80%)' : 'number'}`);
  }
  return Number(plain);
}

function parseAction(text: string, node: Node, fail: Fail, host: HostAbilities): GuardAction {
  const words = text.trim().split(/\s+/);
  const kind = words[0];
  if (kind === 'freeze' || kind === 'thaw') {
    if (words.length > 1) fail(node, `'${kind}' takes no arguments`);
    if (!host.freezer)
      fail(node, `action ${kind}: this host has no freezer (no v1 freezer hierarchy, no cgroup.freeze)`);
    return kind === 'freeze' ? { kind: 'freeze' } : { kind: 'thaw' };
  }
  if (kind === 'notify') {
    if (words.length > 1) fail(node, "'notify' takes no arguments");
    return { kind: 'notify' };
  }
  if (kind === 'kill') {
    const sig = (words[1] ?? 'SIGKILL').toUpperCase();
    const signal = sig.startsWith('SIG') ? sig : `SIG${sig}`;
    if (words.length > 2 || !SIGNALS.has(signal))
      fail(node, `kill: '${words.slice(1).join(' ')}' is not a signal (SIGTERM, SIGKILL, ...)`);
    return { kind: 'kill', signal };
  }
  if (kind === 'limit') return parseLimitAction(words.slice(1), node, fail);
  return fail(
    node,
    `unknown action '${kind}' (freeze, thaw, notify, kill SIGNAL, limit --FLAG VALUE ... [--for DURATION])`,
  );
}

function parseLimitAction(words: string[], node: Node, fail: Fail): GuardAction {
  const req: Record<string, string | string[]> = {};
  let forMs: number | null = null;
  for (let i = 0; i < words.length; i += 2) {
    const flag = words[i];
    const value = words[i + 1];
    if (!flag.startsWith('--') || value === undefined)
      fail(node, `limit: expected --FLAG VALUE pairs, got '${words.join(' ')}'`);
    if (flag === '--for') {
      try {
        forMs = parseForDuration(value);
      } catch (err) {
        if (err instanceof LimitError) fail(node, `limit ${err.message.replace(/; nothing was changed$/, '')}`);
        throw err;
      }
      continue;
    }
    const field = LIMIT_FIELDS.find((f) => f.flag === flag.slice(2));
    if (!field) fail(node, `limit: unknown flag '${flag}' (${LIMIT_FIELDS.map((f) => `--${f.flag}`).join(', ')})`);
    if (field!.multiple) req[field!.key] = [...((req[field!.key] as string[]) ?? []), value];
    else req[field!.key] = value;
  }
  if (Object.keys(req).length === 0) fail(node, 'limit: give at least one limit, e.g. limit --memory 1g');
  try {
    // Units and cross-checks as tstop limit does; device paths are checked when the action runs.
    parseRequest(req as LimitRequest, () => ({ major: 0, minor: 0, isBlock: true }));
  } catch (err) {
    if (err instanceof ExpectedError) fail(node, `limit: ${err.message}`);
    throw err;
  }
  return { kind: 'limit', request: req as LimitRequest, forMs };
}
