// Parsing what an on-call person types into exact numbers, with messages
// that name the flag, the value and why it was refused. Pure: no file
// system, no host facts (ranges that depend on the host are checked in
// plan.ts). Every parser has a formatter that is its inverse (the property
// tests hold them to that).
//
// Sizes follow docker's go-units RAMInBytes: a decimal number, an optional
// space, an optional unit k/m/g/t/p (any case, binary: 1k = 1024) with an
// optional "i" and "b" ("512m", "2g", "1.5GiB", "100kb", "4096b"). Fractions
// of a byte are dropped, as docker does. Arithmetic is exact (BigInt).

import { LimitError } from './api.js';

export const UNLIMITED = 'unlimited' as const;
export type Unlimited = typeof UNLIMITED;

/** Largest byte count tstop accepts: 2^53 - 1 (8 PiB), exact in a JS number. */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;

const UNIT_SHIFT: Record<string, bigint> = { '': 0n, k: 10n, m: 20n, g: 30n, t: 40n, p: 50n };
const UNIT_ORDER = ['p', 't', 'g', 'm', 'k'] as const;

/** A value quoted for a message; control characters shown escaped. */
export function quote(value: string): string {
  const shown = value.length > 300 ? `${value.slice(0, 297)}...` : value;
  return `'${shown.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

export function invalid(flag: string, value: string, why: string): LimitError {
  return new LimitError(`${flag} ${quote(value)}: ${why}`, 2, 'invalid');
}

/** The words that lift a limit. */
export function isUnlimitedWord(value: string): boolean {
  return value === 'unlimited' || value === 'max';
}

const SIZE_RE = /^(\d+)(?:\.(\d+))?(?: ?([kmgtp])(i)?(b)?| ?(b))?$/i;
const SIZE_EXAMPLES = 'examples: 512m, 2g, 1.5GiB, 1073741824';

/**
 * A size in bytes. With `unlimited`, "unlimited", "max" (and -1 with
 * `minusOne`, docker's spelling for --memory-swap) give UNLIMITED.
 */
export function parseBytes(
  flag: string,
  value: string,
  options: { unlimited?: boolean; minusOne?: boolean } = {},
): number | Unlimited {
  if (options.unlimited && isUnlimitedWord(value)) return UNLIMITED;
  if (options.minusOne && value === '-1') return UNLIMITED;
  if (value.startsWith('-')) {
    const lift = options.unlimited ? ` (to lift the limit use 'unlimited'${options.minusOne ? ' or -1' : ''})` : '';
    return fail(flag, value, `a size cannot be negative${lift}`);
  }
  const m = SIZE_RE.exec(value);
  if (!m) {
    if (value.trim() !== value) return fail(flag, value, `unexpected spaces (${SIZE_EXAMPLES})`);
    if (/^\d+(\.\d+)?\s*[a-z]+$/i.test(value))
      return fail(flag, value, `unknown unit (units: k, m, g, t, p; ${SIZE_EXAMPLES})`);
    return fail(flag, value, `not a size (${SIZE_EXAMPLES})`);
  }
  const [, whole, fraction = '', unitLetter = ''] = m;
  if (whole.length + fraction.length > 30) return fail(flag, value, 'too many digits');
  const shift = UNIT_SHIFT[unitLetter.toLowerCase()];
  const scale = 10n ** BigInt(fraction.length);
  const mantissa = BigInt(whole + fraction);
  const bytes = (mantissa << shift) / scale; // floor: fractions of a byte are dropped
  if (bytes > BigInt(MAX_BYTES)) {
    return fail(
      flag,
      value,
      `too large (the most tstop accepts is 8PiB${options.unlimited ? "; use 'unlimited' to lift the limit" : ''})`,
    );
  }
  return Number(bytes);
}

function fail(flag: string, value: string, why: string): never {
  throw invalid(flag, value, why);
}

/** The shortest exact spelling of a byte count: the largest binary unit that divides it ("512m", "1536k", "4095"). */
export function formatBytesExact(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  const n = BigInt(bytes);
  if (n === 0n) return '0';
  for (const u of UNIT_ORDER) {
    const shift = UNIT_SHIFT[u];
    if (n % (1n << shift) === 0n) return `${n >> shift}${u}`;
  }
  return String(bytes);
}

/**
 * CPUs as a decimal ("0.5", "1.25", "2"), to nano-CPUs (docker's NanoCPUs:
 * exact, at most 9 decimals). "unlimited"/"max" with `unlimited`.
 */
export function parseCpus(flag: string, value: string, options: { unlimited?: boolean } = {}): number | Unlimited {
  if (options.unlimited && isUnlimitedWord(value)) return UNLIMITED;
  if (value.startsWith('-')) return fail(flag, value, "CPUs cannot be negative (to lift the limit use 'unlimited')");
  const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
  if (!m) return fail(flag, value, 'not a number of CPUs (examples: 0.5, 1.5, 2)');
  const [, whole, fraction = ''] = m;
  if (fraction.length > 9) return fail(flag, value, 'more than 9 decimals (the finest step is a billionth of a CPU)');
  if (whole.length > 6) return fail(flag, value, 'too large');
  return Number(whole) * 1e9 + Number(fraction.padEnd(9, '0'));
}

/** Nano-CPUs as the shortest decimal ("0.5", "2", "0.000000001"). */
export function formatCpus(nanoCpus: number): string {
  if (!Number.isSafeInteger(nanoCpus) || nanoCpus < 0) throw new RangeError(`not a nano-CPU count: ${nanoCpus}`);
  const whole = Math.floor(nanoCpus / 1e9);
  const fraction = String(nanoCpus % 1e9)
    .padStart(9, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

/** A whole number in [min, max]. */
export function parseInteger(flag: string, value: string, min: number, max: number, why?: string): number {
  if (value.startsWith('-') && /^-\d+$/.test(value)) {
    return fail(flag, value, why ?? `must be between ${min} and ${max}`);
  }
  if (!/^\d+$/.test(value)) return fail(flag, value, 'not a whole number');
  if (value.length > 15 || Number(value) > max || Number(value) < min) {
    return fail(flag, value, why ?? `must be between ${min} and ${max}`);
  }
  return Number(value);
}

/** Largest CPU or memory-node number tstop accepts in a list (the kernel's NR_CPUS is at most 8192). */
export const MAX_LIST_INDEX = 8191;

/** A kernel list ("0-3,6", "1"), as a sorted array of distinct numbers. */
export function parseList(flag: string, value: string, what = 'CPU'): number[] {
  if (value === '') return fail(flag, value, `empty: give the ${what}s to use, e.g. 0-1 or 0,2`);
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) {
      return fail(flag, value, `${quote(part)} is not a ${what} number or range (examples: 0-3, 0,2, 1)`);
    }
    if (m[1].length > 5 || (m[2] ?? '').length > 5)
      return fail(flag, value, `${what} numbers above ${MAX_LIST_INDEX} do not exist`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return fail(flag, value, `range ${quote(part)} runs backwards`);
    if (hi > MAX_LIST_INDEX) return fail(flag, value, `${what} numbers above ${MAX_LIST_INDEX} do not exist`);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** The kernel's list format: sorted ranges, "0-3,6" (two neighbours print as "0-1", as the kernel does). */
export function formatList(values: readonly number[]): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export interface DeviceRef {
  /** As typed: "/dev/sda" or "8:0". */
  text: string;
  /** The path when given as one. */
  path: string | null;
  major: number;
  minor: number;
}

export interface DeviceRate {
  device: DeviceRef;
  /** Bytes (or IO operations) per second; UNLIMITED lifts the throttle. */
  rate: number | Unlimited;
}

/** What tstop needs to know about a device path (injected: tests use fakes). */
export interface DeviceInfo {
  major: number;
  minor: number;
  isBlock: boolean;
}

export type DeviceLookup = (path: string) => DeviceInfo | 'missing';

/**
 * "/dev/sda:10mb" or "8:0:10mb" (bytes, with units) or "8:0:100" (IO
 * operations). The rate follows the last colon: device paths may have
 * colons (/dev/disk/by-path/pci-0000:00:1f.2-ata-1).
 */
export function parseDeviceRate(flag: string, value: string, kind: 'bytes' | 'iops', lookup: DeviceLookup): DeviceRate {
  const colon = value.lastIndexOf(':');
  const examples = kind === 'bytes' ? '/dev/sda:10mb or 8:0:10mb' : '/dev/sda:1000 or 8:0:1000';
  if (colon <= 0 || colon === value.length - 1) return fail(flag, value, `expected DEVICE:RATE, e.g. ${examples}`);
  const deviceText = value.slice(0, colon);
  const rateText = value.slice(colon + 1);
  let rate: number | Unlimited;
  if (isUnlimitedWord(rateText)) rate = UNLIMITED;
  else if (kind === 'bytes') {
    try {
      rate = parseBytes(flag, rateText) as number;
    } catch {
      return fail(flag, value, `rate ${quote(rateText)} is not a size per second (examples: 10mb, 512k, 1048576)`);
    }
  } else {
    if (!/^\d+$/.test(rateText))
      return fail(flag, value, `rate ${quote(rateText)} is not a whole number of IO operations per second`);
    rate = rateText.length > 15 ? Infinity : Number(rateText);
    if (rate > MAX_BYTES) return fail(flag, value, 'rate too large');
  }
  if (rate === 0)
    return fail(flag, value, "a rate of 0 would not throttle anything; use 'unlimited' to lift the throttle");
  return { device: parseDeviceRef(flag, value, deviceText, lookup), rate };
}

/** "/dev/sda" resolved through lookup, or "MAJ:MIN". */
export function parseDeviceRef(flag: string, value: string, deviceText: string, lookup: DeviceLookup): DeviceRef {
  if (deviceText.startsWith('/')) {
    if (/[\x00-\x1f\x7f]/.test(deviceText)) return fail(flag, value, 'the device path contains a control character');
    const info = lookup(deviceText);
    if (info === 'missing') return fail(flag, value, `no such device ${quote(deviceText)}`);
    if (!info.isBlock) return fail(flag, value, `${quote(deviceText)} is not a block device`);
    return { text: deviceText, path: deviceText, major: info.major, minor: info.minor };
  }
  const m = /^(\d{1,7}):(\d{1,7})$/.exec(deviceText);
  if (!m) return fail(flag, value, `${quote(deviceText)} is neither a device path (/dev/...) nor MAJOR:MINOR`);
  return { text: deviceText, path: null, major: Number(m[1]), minor: Number(m[2]) };
}

/** A v1 device rule: "c 1:3 rwm", "b 7:* r", "a" (all devices). */
export interface DeviceRuleSpec {
  type: 'a' | 'b' | 'c';
  /** null = "*" */
  major: number | null;
  minor: number | null;
  access: string;
}

export function parseDeviceRule(flag: string, value: string): DeviceRuleSpec {
  if (value === 'a') return { type: 'a', major: null, minor: null, access: 'rwm' };
  const m = /^([abc]) (\*|\d{1,7}):(\*|\d{1,7}) ([rwm]{1,3})$/.exec(value);
  if (!m) {
    return fail(flag, value, "expected a device rule 'TYPE MAJOR:MINOR ACCESS' such as 'c 1:3 rwm', 'b 8:* r' or 'a'");
  }
  const access = m[4];
  if (new Set(access).size !== access.length) return fail(flag, value, `access ${quote(access)} repeats a letter`);
  const type = m[1] as DeviceRuleSpec['type'];
  if (type === 'a' && (m[2] !== '*' || m[3] !== '*')) return fail(flag, value, "type 'a' (all devices) takes '*:*'");
  return {
    type,
    major: m[2] === '*' ? null : Number(m[2]),
    minor: m[3] === '*' ? null : Number(m[3]),
    access: 'rwm'
      .split('')
      .filter((c) => access.includes(c))
      .join(''),
  };
}

/** The kernel's spelling of a rule ("c 1:3 rwm", "a *:* rwm"). */
export function formatDeviceRule(rule: DeviceRuleSpec): string {
  return `${rule.type} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${rule.access}`;
}

/** Signal names and numbers for `tstop kill --signal`. */
export function parseSignal(
  flag: string,
  value: string,
  signals: Record<string, number>,
): { name: string; number: number } {
  const upper = value.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    const found = Object.entries(signals).find(([, v]) => v === n);
    if (!found || n === 0) return fail(flag, value, 'not a signal number on this system');
    return { name: found[0], number: n };
  }
  if (!(name in signals)) return fail(flag, value, 'not a signal name (examples: KILL, TERM, SIGHUP, 9)');
  return { name, number: signals[name] };
}

/**
 * cgroup v1 cpu.shares [2, 262144] (default 1024) to v2 cpu.weight [1,
 * 10000] (default 100), as runc >= 1.3.2 and crun >= 1.23 convert (the
 * Kubernetes blog "New conversion from cgroup v1 CPU shares to v2 CPU
 * weight"): a quadratic in log2(shares) that maps 2 -> 1, 1024 -> 100 and
 * 262144 -> 10000, rounded up.
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  // ceil with a hair of tolerance, so 10^2 computed as 100.00000000000001 stays 100
  return Math.min(10000, Math.max(1, Math.ceil(10 ** exponent - 1e-9)));
}

/**
 * The inverse for writing a weight on v1: the shares the continuous formula
 * gives (100 -> 1024), nudged to the nearest shares whose weight is exactly
 * `weight`, so sharesToWeight(weightToShares(w)) === w for every weight.
 */
export function weightToShares(weight: number): number {
  if (weight <= 1) return 2;
  if (weight >= 10000) return 262144;
  const y = Math.log10(weight) + 7 / 34;
  const l = (-125 + Math.sqrt(125 * 125 + 4 * 612 * y)) / 2;
  let s = Math.min(262144, Math.max(2, Math.round(2 ** l)));
  while (sharesToWeight(s) < weight && s < 262144) s++;
  while (s > 2 && sharesToWeight(s - 1) >= weight && sharesToWeight(s) > weight) s--;
  return s;
}

/** docker's --blkio-weight [10, 1000] to v2 io.weight [1, 10000] (runc's linear map). */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}
