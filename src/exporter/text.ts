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
 * the next family. The output is one string (V8 ropes make += cheap).
 */
export class TextWriter {
  private out = '';
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
  }

  /** A sample with extra labels (rendered `k="v",...`, already escaped) after the base labels. */
  sampleWith(extra: string, value: number): void {
    this.head();
    this.out += (this.base === '' ? this.name + '{' : this.open + ',') + extra + '} ' + formatValue(value) + '\n';
    this.samples++;
  }

  /** Appends already formatted exposition text (e.g. prom-client's). */
  raw(text: string): void {
    this.out += text;
  }

  text(): string {
    return this.out;
  }
}
