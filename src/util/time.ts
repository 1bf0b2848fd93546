// Points in time as an on-call engineer types them, for every face that
// looks at the past (the recorder's replay, the fleet view, --since):
//   now | 10m ago | 2h30m ago | 03:12 | 03:12:30 | 2026-12-06T03:12:00Z |
//   2026-12-06T04:12:00+01:00 | 2026-12-06 03:12 (no offset: local time) | @1764990720
// A clock time alone is today in local time, or yesterday when that is
// still in the future.

import { DurationError, parseDurationMs } from './duration.js';
import { ExpectedError } from './errors.js';

export const TIME_FORMS =
  "'10m ago', '2h30m ago', '03:12' (today, local time), '2026-12-06T03:12:00Z' (ISO 8601), '@1764990720' (epoch seconds), 'now'";

export class TimeSpecError extends ExpectedError {
  constructor(input: string, why?: string) {
    super(`'${input}' is not a time${why ? ` (${why})` : ''}; accepted forms: ${TIME_FORMS}`, 2);
  }
}

const CLOCK_RE = /^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const EPOCH_RE = /^@(\d{1,12}(?:\.\d{1,9})?)$/;

/** Epoch milliseconds of a time as typed; throws TimeSpecError (exit 2) naming the accepted forms. */
export function parseTimeSpec(input: string, nowMs: number = Date.now()): number {
  const text = input.trim();
  if (text === '') throw new TimeSpecError(input, 'empty');
  if (text === 'now') return nowMs;

  const ago = /^(.+?)\s+ago$/.exec(text);
  if (ago) {
    try {
      return nowMs - parseDurationMs(ago[1]);
    } catch (err) {
      if (err instanceof DurationError) throw new TimeSpecError(input, `'${ago[1]}' is not a duration`);
      throw err;
    }
  }

  const epoch = EPOCH_RE.exec(text);
  if (epoch) return Math.round(Number(epoch[1]) * 1000);

  const clock = CLOCK_RE.exec(text);
  if (clock) {
    const at = new Date(nowMs);
    at.setHours(Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), 0);
    if (at.getTime() > nowMs) at.setDate(at.getDate() - 1);
    return at.getTime();
  }

  const iso = ISO_RE.exec(text);
  if (iso) return isoMs(input, iso);

  throw new TimeSpecError(input);
}

function isoMs(input: string, m: RegExpExecArray): number {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const fractionMs = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    throw new TimeSpecError(input, 'a field is out of range');
  let ms: number;
  if (m[8] === undefined) {
    ms = new Date(year, month - 1, day, hour, minute, second, fractionMs).getTime();
  } else {
    ms = Date.UTC(year, month - 1, day, hour, minute, second, fractionMs);
    if (m[8].toUpperCase() !== 'Z') {
      const sign = m[8][0] === '-' ? -1 : 1;
      const digits = m[8].slice(1).replace(':', '');
      const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
      if (offsetMinutes > 18 * 60) throw new TimeSpecError(input, 'the offset is out of range');
      ms -= sign * offsetMinutes * 60_000;
    }
  }
  // Date rolls 2026-02-31 over to March: refuse rather than guess.
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) throw new TimeSpecError(input, 'no such day');
  return ms;
}

/** A time for messages: ISO 8601 in UTC, to the second. */
export function formatTimeIso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
