import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatValue, labelPairs, TextWriter } from '../../src/exporter/text.js';
import { parseExposition } from '../helpers/exposition.js';

describe('text format writer', () => {
  it('escapes backslash, double quote and newline in label values, and nothing else', () => {
    expect(escapeLabelValue('/system.slice/a.service')).toBe('/system.slice/a.service');
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('tab\there ünï {} =,')).toBe('tab\there ünï {} =,');
    expect(escapeHelp('a\\b\nc "q"')).toBe('a\\\\b\\nc "q"');
  });

  it('round-trips hostile label values through a strict parser', () => {
    const hostile = ['/a"b', '/back\\slash', '/new\nline', '/x\\"y', '/ünïcode', '/end\\'];
    const w = new TextWriter();
    w.begin('m', 'gauge', 'help');
    for (const id of hostile) {
      w.setBase(labelPairs([['id', id]]));
      w.sample(1);
    }
    const e = parseExposition(w.text());
    expect(e.samples.map((s) => s.labels.id)).toEqual(hostile);
  });

  it('formats integers without exponent, fractions exactly, and NaN/Inf as Prometheus does', () => {
    expect(formatValue(0)).toBe('0');
    expect(formatValue(268435456)).toBe('268435456');
    expect(formatValue(2 ** 53)).toBe('9007199254740992');
    expect(formatValue(0.125)).toBe('0.125');
    expect(formatValue(12.345)).toBe('12.345');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(-Infinity)).toBe('-Inf');
  });

  it('writes HELP and TYPE once before the first sample and leaves out families without samples', () => {
    const w = new TextWriter();
    w.begin('empty_family', 'gauge', 'never written');
    w.begin('c_total', 'counter', 'A counter.');
    w.setBase('id="/a"');
    w.sample(1);
    w.sampleWith('cpu="total"', 2);
    w.setBase('');
    w.begin('plain', 'gauge', 'No labels.');
    w.sample(3);
    w.sampleWith('k="v"', 4);
    expect(w.text()).toBe(
      '# HELP c_total A counter.\n# TYPE c_total counter\n' +
        'c_total{id="/a"} 1\nc_total{id="/a",cpu="total"} 2\n' +
        '# HELP plain No labels.\n# TYPE plain gauge\nplain 3\nplain{k="v"} 4\n',
    );
    expect(w.samples).toBe(4);
  });
});
