import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs } from '../../src/util/duration.js';
import { parseTimeSpec, TimeSpecError } from '../../src/util/time.js';

// A fixed "now" in local time: 2026-12-06 10:30:00.
const NOW = new Date(2026, 11, 6, 10, 30, 0, 0).getTime();

describe('parseTimeSpec', () => {
  const good: [string, number][] = [
    ['now', NOW],
    ['10m ago', NOW - 600_000],
    ['2h30m ago', NOW - 9_000_000],
    ['90s ago', NOW - 90_000],
    ['10 ago', NOW - 10_000], // a bare number is seconds, as everywhere
    ['1d ago', NOW - 86_400_000],
    ['03:12', new Date(2026, 11, 6, 3, 12).getTime()],
    ['03:12:30', new Date(2026, 11, 6, 3, 12, 30).getTime()],
    ['23:59', new Date(2026, 11, 5, 23, 59).getTime()], // in the future today: yesterday
    ['2026-12-06T03:12:00Z', Date.UTC(2026, 11, 6, 3, 12)],
    ['2026-12-06T04:12:00+01:00', Date.UTC(2026, 11, 6, 3, 12)],
    ['2026-12-05T22:12:00-0500', Date.UTC(2026, 11, 6, 3, 12)],
    ['2026-12-06T03:12:00.250Z', Date.UTC(2026, 11, 6, 3, 12, 0, 250)],
    ['2026-12-06 03:12', new Date(2026, 11, 6, 3, 12).getTime()],
    ['2026-12-06', new Date(2026, 11, 6).getTime()],
    ['@1764990720', 1_764_990_720_000],
    ['@1764990720.5', 1_764_990_720_500],
  ];
  it.each(good)('%s', (input, expected) => {
    expect(parseTimeSpec(input, NOW)).toBe(expected);
  });

  const bad = [
    '',
    'yesterday',
    '10x ago',
    '25:00',
    '3:7',
    '2026-02-31T00:00:00Z',
    '2026-13-01',
    '@',
    '@abc',
    '12/06/2026',
    'ago',
  ];
  it.each(bad)('refuses %j with the accepted forms, exit 2', (input) => {
    let err: unknown;
    try {
      parseTimeSpec(input, NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TimeSpecError);
    expect((err as TimeSpecError).exitCode).toBe(2);
    expect((err as Error).message).toContain("accepted forms: '10m ago'");
  });
});

describe('durations', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['2', 2000],
    ['1.5s', 1500],
    ['2h30m', 9_000_000],
    ['7d', 604_800_000],
    ['1d12h', 129_600_000],
  ])('%s = %d ms', (input, ms) => expect(parseDurationMs(input)).toBe(ms));
  it.each(['', 'm', '2x', '1h 30m', '-1s'])('refuses %j', (input) =>
    expect(() => parseDurationMs(input)).toThrow(/not a duration/),
  );
  it.each([
    [0, '0'],
    [250, '250ms'],
    [2000, '2s'],
    [90_000, '1m30s'],
    [604_800_000, '7d'],
  ])('formats %d as %s', (ms, text) => expect(formatDurationMs(ms)).toBe(text));
});
