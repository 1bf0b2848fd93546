// What a limit file's value means, per file: the value a plan records as
// "old" (for per-device files, the one device's entry), whether a value read
// back satisfies what was written (the kernel rounds, reformats and prints
// sentinels), and what to write to restore an old value. Pure.

import { parseDeviceRule, type DeviceRuleSpec } from './units.js';

/** Values at or above this mean "no limit" (v1 prints 9223372036854771712 for -1). */
const UNLIMITED_THRESHOLD = 2n ** 60n;

/** A limit value as a bigint, null for unlimited ("max", -1, sentinels); undefined if not a number. */
export function limitValue(text: string): bigint | null | undefined {
  const t = text.trim();
  if (t === 'max' || t === '-1') return null;
  if (!/^\d+$/.test(t)) return undefined;
  const n = BigInt(t);
  return n >= UNLIMITED_THRESHOLD ? null : n;
}

function sameLimit(a: string, b: string): boolean {
  const x = limitValue(a);
  const y = limitValue(b);
  return x !== undefined && y !== undefined && x === y;
}

/** "default 100" (v2 io.weight) or "100" to 100. */
function weightOf(text: string): string {
  const m = /(?:^|\n)default (\d+)/.exec(text);
  return m ? m[1] : text.trim();
}

function listSet(text: string): string | null {
  const t = text.trim();
  if (t === '') return '';
  const out: number[] = [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return [...new Set(out)].sort((a, b) => a - b).join(',');
}

/** "MAJ:MIN" of a per-device value ("8:0 1048576", "8:0 rbps=1 wbps=max"). */
export function deviceOf(value: string): string {
  return value.trim().split(/\s+/)[0] ?? '';
}

/** The line of a per-device file for one device, or null. */
function deviceLine(content: string, device: string): string | null {
  for (const line of content.split('\n')) if (deviceOf(line) === device) return line.trim();
  return null;
}

const IO_MAX_KEYS = ['rbps', 'wbps', 'riops', 'wiops'] as const;

/** io.max line to its four keys ("max" where absent). */
function ioMaxKeys(line: string | null): Record<string, string> {
  const out: Record<string, string> = { rbps: 'max', wbps: 'max', riops: 'max', wiops: 'max' };
  if (line === null) return out;
  for (const kv of line.split(/\s+/).slice(1)) {
    const [k, v] = kv.split('=');
    if (k in out && v !== undefined) out[k] = v;
  }
  return out;
}

function ioMaxLine(device: string, keys: Record<string, string>): string {
  return `${device} ${IO_MAX_KEYS.map((k) => `${k}=${keys[k]}`).join(' ')}`;
}

/** devices.list to rules; "a *:* rwm" alone means allow-all (default-allow) mode. */
export function parseDevicesList(content: string): DeviceRuleSpec[] {
  return content
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => parseDeviceRule('devices.list', l));
}

export function isAllowAll(rules: DeviceRuleSpec[]): boolean {
  return rules.some((r) => r.type === 'a');
}

/** Whether the access of rule r is granted by the list (the kernel's match: wildcards cover numbers). */
export function covered(list: DeviceRuleSpec[], r: DeviceRuleSpec): boolean {
  return list.some(
    (e) =>
      (e.type === 'a' || e.type === r.type) &&
      (e.major === null || (r.major !== null && e.major === r.major)) &&
      (e.minor === null || (r.minor !== null && e.minor === r.minor)) &&
      [...r.access].every((c) => e.access.includes(c)),
  );
}

/** Whether any of rule r's access is granted by the list for exactly r's devices. */
export function anyAccess(list: DeviceRuleSpec[], r: DeviceRuleSpec): boolean {
  return [...r.access].some((c) => covered(list, { ...r, access: c }));
}

export interface FileSemantics {
  /** The comparable current value, from the file's content (content of devices.list for device rules). */
  current(content: string, newValue: string): string;
  /** Whether a current value satisfies a written (or recorded) value. */
  satisfies(current: string, value: string): boolean;
  /** What to write to restore a recorded old value. */
  restore(old: string): string;
  /** The file to read for the current value (devices.allow is write-only). */
  readFrom?: string;
}

const plain: FileSemantics = {
  current: (content) => content.trim(),
  satisfies: (current, value) => current.trim() === value.trim(),
  restore: (old) => old,
};

const limit = (unlimited: string): FileSemantics => ({
  current: (content) => content.trim(),
  satisfies: sameLimit,
  restore: (old) => (limitValue(old) === null ? unlimited : old.trim()),
});

const weight: FileSemantics = {
  current: (content) => weightOf(content),
  satisfies: (current, value) => weightOf(current) === weightOf(value),
  restore: (old) => weightOf(old),
};

const list: FileSemantics = {
  current: (content) => content.trim(),
  satisfies: (current, value) => listSet(current) !== null && listSet(current) === listSet(value),
  restore: (old) => old,
};

/** v1 blkio.throttle.*_device: "MAJ:MIN RATE"; no line means unthrottled, written as rate 0. */
const throttleV1: FileSemantics = {
  current(content, newValue) {
    const device = deviceOf(newValue);
    const line = deviceLine(content, device);
    return `${device} ${line ? (line.split(/\s+/)[1] ?? '0') : '0'}`;
  },
  satisfies: (current, value) =>
    deviceOf(current) === deviceOf(value) && current.trim().split(/\s+/)[1] === value.trim().split(/\s+/)[1],
  restore: (old) => old,
};

/** v2 io.max: "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=.."; a written value may name only some keys. */
const ioMax: FileSemantics = {
  current(content, newValue) {
    const device = deviceOf(newValue);
    return ioMaxLine(device, ioMaxKeys(deviceLine(content, device)));
  },
  satisfies(current, value) {
    if (deviceOf(current) !== deviceOf(value)) return false;
    const have = ioMaxKeys(current);
    for (const kv of value.trim().split(/\s+/).slice(1)) {
      const [k, v] = kv.split('=');
      if (!(k in have) || !sameLimit(have[k], v)) return false;
    }
    return true;
  },
  restore: (old) => old,
};

/**
 * v1 device rules: the current value is devices.list. An allow is satisfied
 * when the list grants the rule's access; a deny when no entry grants any
 * of it. In allow-all mode ("a *:* rwm") the kernel keeps deny exceptions
 * out of the list, so a deny there cannot be read back (see apply.ts).
 */
const devicesAllow: FileSemantics = {
  readFrom: 'devices.list',
  current: (content) => content.trim(),
  satisfies: (current, value) => {
    const rules = parseDevicesList(current);
    return isAllowAll(rules) || covered(rules, parseDeviceRule('--device-allow', value));
  },
  restore: (old) => old,
};

const devicesDeny: FileSemantics = {
  readFrom: 'devices.list',
  current: (content) => content.trim(),
  satisfies: (current, value) => {
    const rules = parseDevicesList(current);
    const rule = parseDeviceRule('--device-deny', value);
    if (rule.type === 'a') return rules.length === 0;
    return isAllowAll(rules) || !anyAccess(rules, rule);
  },
  restore: (old) => old,
};

const freezerState: FileSemantics = {
  current: (content) => content.trim(),
  satisfies: (current, value) => current.trim() === value.trim(),
  restore: (old) => (old.trim() === 'FROZEN' || old.trim() === 'FREEZING' ? 'FROZEN' : 'THAWED'),
};

const SEMANTICS: Record<string, FileSemantics> = {
  'memory.limit_in_bytes': limit('-1'),
  'memory.soft_limit_in_bytes': limit('-1'),
  'memory.memsw.limit_in_bytes': limit('-1'),
  'memory.max': limit('max'),
  'memory.high': limit('max'),
  'memory.low': limit('max'),
  'memory.swap.max': limit('max'),
  'cpu.cfs_quota_us': limit('-1'),
  'cpu.cfs_period_us': plain,
  'cpu.shares': plain,
  'cpu.weight': plain,
  'cpu.max': {
    current: (content) => content.trim(),
    satisfies: (current, value) => {
      const [q1, p1] = current.trim().split(/\s+/);
      const [q2, p2] = value.trim().split(/\s+/);
      return sameLimit(q1, q2) && (p2 === undefined || p1 === p2);
    },
    restore: (old) => old.trim(),
  },
  'cpuset.cpus': list,
  'cpuset.mems': list,
  'pids.max': limit('max'),
  'blkio.weight': weight,
  'blkio.bfq.weight': weight,
  'io.weight': weight,
  'io.bfq.weight': weight,
  'blkio.throttle.read_bps_device': throttleV1,
  'blkio.throttle.write_bps_device': throttleV1,
  'blkio.throttle.read_iops_device': throttleV1,
  'blkio.throttle.write_iops_device': throttleV1,
  'io.max': ioMax,
  'devices.allow': devicesAllow,
  'devices.deny': devicesDeny,
  'freezer.state': freezerState,
  'cgroup.freeze': plain,
};

export function semanticsOf(file: string): FileSemantics {
  return SEMANTICS[file] ?? plain;
}

/**
 * Writes that bring a device list back from `current` to `old` (both
 * devices.list contents), as [file, value] pairs. Whitelist mode: first
 * allow every old rule (only ever adds access), then take away what the old
 * list did not grant, entry by entry (the kernel removes exact matches), so
 * no access the container had is ever briefly denied. Allow-all mode: one
 * "a" to devices.allow (this also clears deny exceptions the kernel does
 * not list; see docs/limiter.md).
 */
export function restoreDeviceList(old: string, current: string): [string, string][] {
  const was = parseDevicesList(old);
  const now = parseDevicesList(current);
  if (isAllowAll(was)) return [['devices.allow', 'a']];
  const out: [string, string][] = [];
  if (isAllowAll(now)) out.push(['devices.deny', 'a']);
  const fmt = (r: DeviceRuleSpec): string => `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`;
  for (const r of was) out.push(['devices.allow', fmt(r)]);
  for (const e of isAllowAll(now) ? [] : now) {
    const same = was.find((r) => r.type === e.type && r.major === e.major && r.minor === e.minor);
    const extra = [...e.access].filter((c) => !same?.access.includes(c)).join('');
    if (extra) out.push(['devices.deny', fmt({ ...e, access: extra })]);
  }
  return out;
}

/**
 * What devices.list should show after writing rules to devices.allow and
 * devices.deny in order, starting from `old` (the kernel's v1 semantics:
 * "a" switches mode and clears the exceptions; in allow-all mode the
 * exceptions are denies and are not listed; in whitelist mode an allow adds
 * access to the entry with exactly that type and numbers, a deny takes it
 * away from that entry only). Returns the list normalized (sorted lines).
 */
export function expectedDeviceList(old: string, writes: [string, string][]): string {
  let allowAll = isAllowAll(parseDevicesList(old));
  let entries = allowAll ? [] : parseDevicesList(old);
  const key = (r: DeviceRuleSpec): string => `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'}`;
  for (const [file, value] of writes) {
    const rule = parseDeviceRule(file, value);
    const allow = file === 'devices.allow';
    if (rule.type === 'a') {
      allowAll = allow;
      entries = [];
      continue;
    }
    // In allow-all mode a deny adds a hidden exception, an allow removes one: nothing listed changes.
    if (allowAll) continue;
    const i = entries.findIndex((e) => key(e) === key(rule));
    if (allow) {
      if (i < 0) entries.push(rule);
      else
        entries[i] = {
          ...entries[i],
          access: 'rwm'
            .split('')
            .filter((c) => entries[i].access.includes(c) || rule.access.includes(c))
            .join(''),
        };
    } else if (i >= 0) {
      const access = entries[i].access
        .split('')
        .filter((c) => !rule.access.includes(c))
        .join('');
      if (access) entries[i] = { ...entries[i], access };
      else entries.splice(i, 1);
    }
  }
  return allowAll ? 'a *:* rwm' : normalizeDeviceList(entries.map((e) => `${key(e)} ${e.access}`).join('\n'));
}

/** devices.list with its lines sorted, for comparing. */
export function normalizeDeviceList(list: string): string {
  return list
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort()
    .join('\n');
}
