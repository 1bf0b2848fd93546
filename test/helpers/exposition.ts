// A strict reader of the Prometheus text format for tests: every sample as
// { name, labels, value }, every family's TYPE and HELP, and an error for any
// line the format does not allow.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  helps: Map<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseLabels(text: string, line: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = 0;
  if (text[i] !== '{') return [labels, 0];
  i++;
  while (text[i] !== '}') {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`bad label at ${i} in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else throw new Error(`bad escape \\${e} in: ${line}`);
      } else value += c;
    }
    if (m[1] in labels) throw new Error(`duplicate label ${m[1]} in: ${line}`);
    labels[m[1]] = value;
    if (text[i] === ',') i++;
  }
  return [labels, i + 1];
}

export function parseExposition(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), helps: new Map() };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      const [, , name, ...help] = line.split(' ');
      out.helps.set(name, help.join(' '));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      out.types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = NAME.exec(line);
    if (!m) throw new Error(`bad line: ${line}`);
    const [labels, used] = parseLabels(line.slice(m[0].length), line);
    const rest = line.slice(m[0].length + used);
    const parts = rest.trim().split(' ');
    if (parts.length !== 1) throw new Error(`unexpected timestamp or trailing text: ${line}`);
    const v = parts[0] === '+Inf' ? Infinity : parts[0] === '-Inf' ? -Infinity : Number(parts[0]);
    // Prometheus parses values with Go's ParseFloat: NaN in any case (prom-client writes "Nan").
    if (!/^nan$/i.test(parts[0]) && Number.isNaN(v)) throw new Error(`bad value in: ${line}`);
    out.samples.push({ name: m[0], labels, value: v });
  }
  return out;
}

/** Samples of one family whose labels include all of `match`. */
export function find(e: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The value of the one sample that matches; throws when there is not exactly one. */
export function value(e: Exposition, name: string, match: Record<string, string> = {}): number {
  const found = find(e, name, match);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(match)}`);
  return found[0].value;
}
