// Durations as users type them: "0", "500ms", "2s", "1.5s", "1m"; a bare
// number is seconds (like `watch -n`).

export class DurationError extends Error {}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration to milliseconds; throws DurationError with the reason. */
export function parseDurationMs(input: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(input.trim());
  if (!m) throw new DurationError(`'${input}' is not a duration (examples: 0, 500ms, 2s, 1m)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's'];
  if (!Number.isFinite(ms)) throw new DurationError(`'${input}' is too large`);
  return ms;
}

export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
