// The one sanitizer for text from containers (src/util/sanitize.ts).

import { describe, expect, it } from 'vitest';
import { sanitizeJson, sanitizeText } from '../../src/util/sanitize.js';
import { safeText } from '../../ui/view/text.js';

describe('sanitizeText', () => {
  it('escapes C0, DEL and C1 as \\xNN and bidi controls as \\u{hex}', () => {
    expect(sanitizeText('a\x1b[2Jb\x07\x7f\u009b')).toBe('a\\x1b[2Jb\\x07\\x7f\\x9b');
    expect(sanitizeText('txt\u202eexe \u2066x\u2069 \u200e\u200f\u061c \u202a\u202b\u202c\u202d \u2028\u2029')).toBe(
      'txt\\u{202e}exe \\u{2066}x\\u{2069} \\u{200e}\\u{200f}\\u{61c} \\u{202a}\\u{202b}\\u{202c}\\u{202d} \\u{2028}\\u{2029}',
    );
  });

  it('keeps every other character, wide and accented ones included', () => {
    for (const s of ['web-1', 'café', '数据库', 'emoji 🚀', 'a\\x1b literal backslash'])
      expect(sanitizeText(s)).toBe(s);
  });

  it('is what the dashboard uses for names', () => {
    expect(safeText('x\u202ey\x1b')).toBe('x\\u{202e}y\\x1b');
  });
});

describe('sanitizeJson', () => {
  it('escapes what JSON.stringify leaves raw and parses back to the same value', () => {
    const value = { name: 'evil\u202egpj.exe\u009b\x7f\x1b', image: 'ok' };
    const text = sanitizeJson(JSON.stringify(value));
    expect(text).toBe('{"name":"evil\\u202egpj.exe\\u009b\\u007f\\u001b","image":"ok"}');
    expect(JSON.parse(text)).toEqual(value);
  });
});
