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

/**
 * Accumulates the exposition. Typical use per family: begin(), then for
 * each series owner setBase(labels) and sample()/sampleWith(); end() before
 * the next family. Text accumulates in a short string (V8 ropes make +=
 * cheap) that is encoded into a growing buffer every few KiB, so a 4 MB
 * exposition never exists as one huge rope to flatten.
 */
export class TextWriter {
  private out = '';
  private buf = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private name = '';
  private header = '';
  private headerWritten = true;
  private base = '';
  /** "name{base" precomputed for the current family and base. */
  private open = '';
  samples = 0;

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

  /** Appends already formatted exposition text (e.g. prom-client's). */
  raw(text: string): void {
    this.out += text;
    this.flush();
  }

  /** Encodes the pending text once it is long enough (call between samples). */
  private flush(): void {
    const pending = this.out;
    const need = this.used + pending.length * 3;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(pending, this.used, 'utf8');
    this.out = '';
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
