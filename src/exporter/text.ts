// The Prometheus text exposition format (0.0.4), written by hand: 1,000
// cgroups × ~50 families is ~50,000 lines per scrape, too many for one
// object per series. A family's HELP/TYPE header is written before its first
// sample, so a family with no samples does not appear at all. No timestamps.

export type MetricType = 'counter' | 'gauge';

const LABEL_SPECIAL = /[\\"\n]/;

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_SPECIAL.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and newline escaped (quotes are fine there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: integers without exponent up to 2^53, NaN and infinities as Prometheus spells them. */
export function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? '+Inf' : '-Inf';
}

/** `name="value"` pairs joined with commas, values escaped; in the order given. */
export function labelPairs(labels: [string, string][]): string {
  let out = '';
  for (const [k, v] of labels) out += (out === '' ? '' : ',') + k + '="' + escapeLabelValue(v) + '"';
  return out;
}

/** Where a family's emitter puts its samples: a TextWriter, or the render cache's recorder. */
export interface SampleSink {
  /** A sample with only the base labels. */
  sample(value: number): void;
  /** A sample with extra labels (rendered `k="v",...`, already escaped) after the base labels. */
  sampleWith(extra: string, value: number): void;
}

/** One sample line: `name{base,extra} value` (extra null: only the base labels). */
export function sampleLine(name: string, base: string, extra: string | null, value: number): string {
  const labels = extra === null ? base : base === '' ? extra : base + ',' + extra;
  return (labels === '' ? name + ' ' : name + '{' + labels + '} ') + formatValue(value) + '\n';
}

/**
 * Accumulates the exposition. Typical use per family: begin(), then for
 * each series owner setBase(labels) and sample()/sampleWith(); end() before
 * the next family. Text accumulates in a short string (V8 ropes make +=
 * cheap) that is encoded into a growing buffer every few KiB, so a 4 MB
 * exposition never exists as one huge rope to flatten.
 */
export class TextWriter implements SampleSink {
  private out = '';
  private buf: Buffer;
  private used = 0;
  private name = '';
  private header = '';
  private headerWritten = true;
  private base = '';
  /** "name{base" precomputed for the current family and base. */
  private open = '';
  samples = 0;

  /** sizeHint: the expected size in bytes (the last exposition's), so the buffer is not regrown on the way. */
  constructor(sizeHint = 1 << 16) {
    this.buf = Buffer.allocUnsafe(Math.max(1 << 10, sizeHint));
  }

  /** Starts a family; its header is written with its first sample. */
  begin(name: string, type: MetricType, help: string): void {
    this.name = name;
    this.header = `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    this.headerWritten = false;
    this.open = name + '{' + this.base;
  }

  /** Sets the base labels (already rendered by labelPairs) of the following samples. */
  setBase(base: string): void {
    this.base = base;
    this.open = this.name + '{' + base;
  }

  private head(): void {
    if (!this.headerWritten) {
      this.out += this.header;
      this.headerWritten = true;
    }
  }

  /** A sample with only the base labels. */
  sample(value: number): void {
    this.head();
    this.out += (this.base === '' ? this.name + ' ' : this.open + '} ') + formatValue(value) + '\n';
    this.samples++;
    if (this.out.length > 8192) this.flush();
  }

  /** A sample with extra labels (rendered `k="v",...`, already escaped) after the base labels. */
  sampleWith(extra: string, value: number): void {
    this.head();
    this.out += (this.base === '' ? this.name + '{' : this.open + ',') + extra + '} ' + formatValue(value) + '\n';
    this.samples++;
    if (this.out.length > 8192) this.flush();
  }

  /** Already rendered sample lines of the current family (the render cache's), `count` samples. */
  lines(text: string, count: number): void {
    if (count === 0) return;
    this.head();
    this.out += text;
    this.samples += count;
    if (this.out.length > 8192) this.flush();
  }

  /** Appends already formatted exposition text (e.g. prom-client's). */
  raw(text: string): void {
    this.out += text;
    this.flush();
  }

  /** Encodes the pending text once it is long enough (call between samples). */
  private flush(): void {
    const pending = this.out;
    // Exact size only near the end of the buffer (UTF-8 takes at most 3 bytes per UTF-16 unit).
    const need = this.used + (this.used + pending.length * 3 > this.buf.length ? Buffer.byteLength(pending) : 0);
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(pending, this.used, 'utf8');
    this.out = '';
  }

  /** Empties the writer, keeping its buffer (the render cache writes one family at a time). */
  reset(): void {
    this.out = '';
    this.used = 0;
    this.headerWritten = true;
    this.samples = 0;
  }

  /** The exposition so far as UTF-8 (a view of the writer's buffer: copy it if the writer goes on). */
  bytes(): Buffer {
    if (this.out !== '') this.flush();
    return this.buf.subarray(0, this.used);
  }

  text(): string {
    return this.bytes().toString('utf8');
  }
}
