// Byte-level parsers for cgroupfs and procfs formats. They read straight from
// the shared read buffer so a tick does not allocate a string per file.
// Every function takes (buf, start, end) and never throws on odd input: it
// returns NaN / null and the collector reports the value as unknown.

const SPACE = 0x20;
const TAB = 0x09;
const NL = 0x0a;
const DIGIT0 = 0x30;
const DIGIT9 = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;

/** Largest value that still means a limit; above it the kernel means "no limit". */
export const UNLIMITED_THRESHOLD = 2 ** 60;

export function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === NL;
}

/** Index of the next byte equal to c in [start, end), or end. */
export function indexOf(buf: Uint8Array, c: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === c) return i;
  return end;
}

/**
 * Parses an unsigned or negative decimal integer (or a decimal fraction such
 * as PSI's "1.23") in [start, end), ignoring surrounding whitespace.
 * Returns NaN if the field is not a number.
 */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  while (start < end && isSpace(buf[start])) start++;
  while (end > start && isSpace(buf[end - 1])) end--;
  if (start >= end) return NaN;
  let negative = false;
  if (buf[start] === MINUS) {
    negative = true;
    start++;
    if (start >= end) return NaN;
  }
  let value = 0;
  let i = start;
  for (; i < end; i++) {
    const c = buf[i];
    if (c < DIGIT0 || c > DIGIT9) break;
    value = value * 10 + (c - DIGIT0);
  }
  if (i < end && buf[i] === DOT) {
    // Fraction as an integer over a power of ten: one correctly rounded division.
    let fraction = 0;
    let scale = 1;
    for (i++; i < end; i++) {
      const c = buf[i];
      if (c < DIGIT0 || c > DIGIT9) return NaN;
      fraction = fraction * 10 + (c - DIGIT0);
      scale *= 10;
    }
    value = (value * scale + fraction) / scale;
  }
  if (i !== end) return NaN;
  return negative ? -value : value;
}

/** True when [start, end) (trimmed) equals the ASCII word. */
export function equalsAscii(buf: Uint8Array, start: number, end: number, word: string): boolean {
  while (start < end && isSpace(buf[start])) start++;
  while (end > start && isSpace(buf[end - 1])) end--;
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * A limit value: "max" (v2), -1 (v1 cfs quota) and the kernel's huge
 * sentinels (v1 memory 9223372036854771712, 2^64-1, ...) all mean unlimited
 * and become null. A file that does not parse also gives null.
 */
export function parseLimit(buf: Uint8Array, start: number, end: number): number | null {
  if (equalsAscii(buf, start, end, 'max')) return null;
  const n = parseNumber(buf, start, end);
  if (Number.isNaN(n) || n < 0 || n >= UNLIMITED_THRESHOLD) return null;
  return n;
}

export function limitFromNumber(n: number): number | null {
  if (Number.isNaN(n) || n < 0 || n >= UNLIMITED_THRESHOLD) return null;
  return n;
}

/** Decodes [start, end) as latin1 text, trimmed of trailing whitespace. */
export function text(buf: Uint8Array, start: number, end: number): string {
  while (end > start && isSpace(buf[end - 1])) end--;
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/**
 * The key set of a flat keyed file ("key value" per line: memory.stat,
 * cpu.stat, pids.events, memory.events, cgroup.events). Keys are declared
 * once; parsing fills a Float64Array in declaration order, NaN for a key the
 * file did not have. One pass over the bytes; a line's key is looked up in a
 * small hash table (its length and first and last bytes), so the many lines
 * of memory.stat that tstop does not use cost one probe and rarely a byte
 * comparison.
 */
export class KeyedFormat<K extends string> {
  readonly keys: readonly K[];
  private readonly keyBytes: Uint8Array[];
  private readonly index: Record<string, number>;
  /** Per hash bucket, the first key in it (-1: none); then each key's next in its bucket. */
  private readonly bucketHead = new Int16Array(KEY_BUCKETS).fill(-1);
  private readonly nextInBucket: Int16Array;

  constructor(keys: readonly K[]) {
    this.keys = keys;
    this.keyBytes = keys.map((k) => Buffer.from(k, 'latin1'));
    this.index = {};
    this.nextInBucket = new Int16Array(keys.length).fill(-1);
    keys.forEach((k, i) => {
      this.index[k] = i;
      const b = this.keyBytes[i];
      const bucket = KeyedFormat.bucket(b, 0, b.length);
      this.nextInBucket[i] = this.bucketHead[bucket];
      this.bucketHead[bucket] = i;
    });
  }

  private static bucket(buf: Uint8Array, start: number, end: number): number {
    return ((end - start) * 31 + buf[start] * 7 + buf[end - 1]) & (KEY_BUCKETS - 1);
  }

  /** Position of key in the output array. */
  at(key: K): number {
    return this.index[key];
  }

  newValues(): Float64Array {
    return new Float64Array(this.keys.length).fill(NaN);
  }

  /** Parses the file in buf[start, len) into out (reset to NaN first). */
  parse(buf: Uint8Array, len: number, out: Float64Array, start = 0): Float64Array {
    out.fill(NaN);
    let i = start;
    while (i < len) {
      const lineStart = i;
      let c = buf[i];
      while (c !== SPACE && c !== NL && ++i < len) c = buf[i];
      if (i >= len) break; // a last line without a value
      if (c === NL) {
        i++; // a line without a space: no value
        continue;
      }
      const k = i > lineStart ? this.match(buf, lineStart, i) : -1;
      const valueStart = ++i;
      while (i < len && buf[i] !== NL) i++;
      if (k >= 0) out[k] = parseNumber(buf, valueStart, i);
      i++;
    }
    return out;
  }

  private match(buf: Uint8Array, start: number, end: number): number {
    const length = end - start;
    for (let k = this.bucketHead[KeyedFormat.bucket(buf, start, end)]; k >= 0; k = this.nextInBucket[k]) {
      const key = this.keyBytes[k];
      if (key.length !== length) continue;
      let i = 0;
      while (i < length && buf[start + i] === key[i]) i++;
      if (i === length) return k;
    }
    return -1;
  }
}

/** Hash buckets of a KeyedFormat (a power of two, more than any key set). */
const KEY_BUCKETS = 64;

/** Parses a kernel CPU/node list such as "0-3,8-11,15" into a sorted array. */
export function parseCpuList(list: string): number[] | null {
  const trimmed = list.trim();
  if (trimmed === '') return [];
  const out: number[] = [];
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return null;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** Calls fn(lineStart, lineEnd) for each line in buf[from, len). */
export function forEachLine(buf: Uint8Array, len: number, fn: (start: number, end: number) => void, from = 0): void {
  let start = from;
  while (start < len) {
    const end = indexOf(buf, NL, start, len);
    if (end > start) fn(start, end);
    start = end + 1;
  }
}

/**
 * Splits buf[start, end) on runs of spaces/tabs, returning the field
 * boundaries as [s0, e0, s1, e1, ...] in the provided scratch array.
 */
export function fields(buf: Uint8Array, start: number, end: number, scratch: number[]): number {
  let count = 0;
  let i = start;
  while (i < end) {
    while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
    if (i >= end) break;
    const s = i;
    while (i < end && buf[i] !== SPACE && buf[i] !== TAB) i++;
    scratch[count * 2] = s;
    scratch[count * 2 + 1] = i;
    count++;
  }
  return count;
}
