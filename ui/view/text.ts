// Text as the terminal will show it: names made safe to print (control,
// zero-width and double-width characters escaped so one character is one
// cell and no name can drive the terminal), truncation and padding to a
// cell width, and the glyphs for UTF-8 terminals and for TERM=linux.

import { sanitizeText } from '../../src/util/sanitize.js';

export interface Glyphs {
  /** Filled part of a bar. */
  bar: string;
  /** Truncation mark. */
  ellipsis: string;
  /** Tree: expanded, collapsed, leaf markers. */
  expanded: string;
  collapsed: string;
  leaf: string;
  /** Tree: the guide drawn in front of a child ("|-" / "`-"). */
  branch: string;
  lastBranch: string;
  pipe: string;
  /** Sort direction in the table header. */
  descending: string;
  ascending: string;
  unicode: boolean;
}

export const UNICODE_GLYPHS: Glyphs = {
  bar: '|',
  ellipsis: '…',
  expanded: '▾',
  collapsed: '▸',
  leaf: ' ',
  branch: '├─',
  lastBranch: '└─',
  pipe: '│ ',
  descending: '▼',
  ascending: '▲',
  unicode: true,
};

export const ASCII_GLYPHS: Glyphs = {
  bar: '|',
  ellipsis: '~',
  expanded: '-',
  collapsed: '+',
  leaf: ' ',
  branch: '|-',
  lastBranch: '`-',
  pipe: '| ',
  descending: 'v',
  ascending: '^',
  unicode: false,
};

/** Whether the terminal can show UTF-8 box and braille glyphs: not the Linux console, and a UTF-8 locale. */
export function terminalIsUnicode(env: NodeJS.ProcessEnv = process.env): boolean {
  if ((env.TERM ?? '') === 'linux') return false;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}

// Characters that are not exactly one terminal cell wide: combining marks and
// format characters (zero width), East Asian wide and fullwidth forms and
// everything outside the BMP (two cells, or unknown).
const NOT_ONE_CELL =
  /[\p{M}\p{Cf}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{10000}-\u{10ffff}]/gu;
const NON_ASCII = /[^\x20-\x7e]/gu;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/**
 * A name made safe for one-cell-per-character display: control and bidi
 * characters escaped by the one sanitizer (src/util/sanitize.ts), then any character that is not one cell
 * wide (or, on an ASCII terminal, any non-ASCII character) as \u{hex}.
 */
export function safeText(s: string, unicode = true): string {
  if (PLAIN_ASCII.test(s)) return s; // the common case, without the Unicode-aware regexes
  const p = sanitizeText(s);
  const re = unicode ? NOT_ONE_CELL : NON_ASCII;
  re.lastIndex = 0;
  return p.replace(re, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/** Fits text into width cells: cut with a trailing mark (or, with keepEnd, a leading one) and padded. */
export function fit(
  s: string,
  width: number,
  align: 'left' | 'right' = 'left',
  ellipsis = '~',
  keepEnd = false,
): string {
  if (width <= 0) return '';
  let t = s;
  if (t.length > width) {
    if (width === 1) t = ellipsis;
    else if (keepEnd) t = ellipsis + t.slice(t.length - width + 1);
    else t = t.slice(0, width - 1) + ellipsis;
  }
  return align === 'right' ? t.padStart(width) : t.padEnd(width);
}

/** A bar of `width` cells filled to fraction (0..1), e.g. "|||||     ". */
export function bar(fraction: number | null, width: number, glyph = '|'): string {
  if (width <= 0) return '';
  const f = fraction === null || !Number.isFinite(fraction) ? 0 : Math.min(1, Math.max(0, fraction));
  const n = Math.round(f * width);
  return glyph.repeat(n) + ' '.repeat(width - n);
}

/** Escapes blessed tag braces in text that is put into tagged content. */
export function escapeTags(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Colour classes the views use; the widgets map them to terminal colours. */
export type Level = 'normal' | 'warn' | 'crit' | 'dim' | 'good' | 'accent';

const LEVEL_TAGS: Record<Level, [string, string]> = {
  normal: ['', ''],
  warn: ['{yellow-fg}', '{/yellow-fg}'],
  crit: ['{red-fg}{bold}', '{/bold}{/red-fg}'],
  dim: ['{cyan-fg}', '{/cyan-fg}'],
  good: ['{green-fg}', '{/green-fg}'],
  accent: ['{magenta-fg}{bold}', '{/bold}{/magenta-fg}'],
};

/** Plain text wrapped in the tags of a level (the text is tag-escaped here). */
export function tagged(text: string, level: Level = 'normal'): string {
  const [open, close] = LEVEL_TAGS[level];
  return open + escapeTags(text) + close;
}

/** One piece of a line: text and its colour. */
export interface Span {
  text: string;
  level: Level;
}

export function spansToTags(spans: Span[]): string {
  return spans.map((s) => tagged(s.text, s.level)).join('');
}

export function spansText(spans: Span[]): string {
  return spans.map((s) => s.text).join('');
}
