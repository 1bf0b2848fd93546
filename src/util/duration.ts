// Durations as users type them: "0", "500ms", "2s", "1.5s", "1m", "7d", and
// compounds such as "2h30m" or "1d12h"; a bare number is seconds (like
// `watch -n`).

import { ExpectedError } from './errors.js';

export class DurationError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const EXAMPLES = 'examples: 0, 500ms, 2s, 1m, 2h30m, 7d';
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parses a duration to milliseconds; throws DurationError with the reason. */
export function parseDurationMs(input: string): number {
  const text = input.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return checked(input, Number(text) * 1000);
  let ms = 0;
  let at = 0;
  PART_RE.lastIndex = 0;
  while (at < text.length) {
    PART_RE.lastIndex = at;
    const m = PART_RE.exec(text);
    if (!m) throw new DurationError(`'${input}' is not a duration (${EXAMPLES})`);
    ms += Number(m[1]) * UNIT_MS[m[2]];
    at = PART_RE.lastIndex;
  }
  if (text === '') throw new DurationError(`'${input}' is not a duration (${EXAMPLES})`);
  return checked(input, ms);
}

function checked(input: string, ms: number): number {
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) throw new DurationError(`'${input}' is too large`);
  return ms;
}

/** The shortest exact spelling: "0", "250ms", "2s", "1m30s", "7d". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0) parts.push(`${s}s`);
  return parts.join('');
}
