// `tstop limit C --memory 512m --cpus 1 --what-if 24h [--store DIR]` and
// `tstop recommend C [--window 7d] [--headroom 15%]`: a container's recorded
// history (src/record/history.ts) against proposed limits
// (src/limiter/whatif.ts, recommend.ts). Both read the store only: no cgroup
// write, no audit record, no lock.

import { LimitError } from '../limiter/api.js';
import { flagOf, LIMIT_FIELDS } from '../limiter/fields.js';
import { parseRequest } from '../limiter/plan/request.js';
import { DEFAULT_HEADROOM, recommend, type Headroom } from '../limiter/recommend.js';
import { formatBytesExact, UNLIMITED } from '../limiter/units.js';
import { whatIf, type ProposedLimits } from '../limiter/whatif.js';
import { recommendText, whatIfText, type ReportContext } from '../limiter/whatif-text.js';
import { readContainerHistory, type ContainerHistory } from '../record/history.js';
import { StoreReader } from '../record/reader.js';
import { UsageError } from '../util/errors.js';
import { printable } from '../util/format.js';
import { sanitizeJson } from '../util/sanitize.js';
import { formatTimeIso } from '../util/time.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';
import { storeDir } from './store-dir.js';

/** The limits a recording of usage can answer for: their flags (from the field table) and request keys. */
const REPLAYABLE = (['memory', 'cpus', 'pidsLimit'] as const).map((key) => [flagOf(key).slice(2), key] as const);
const WHAT_IF_FLAGS = ['what-if', 'store', 'json', ...REPLAYABLE.map(([f]) => f)];
/** Limit flags that exist but that a recording of usage cannot judge. */
const NOT_REPLAYABLE = LIMIT_FIELDS.map((f) => f.flag).filter((f) => !WHAT_IF_FLAGS.includes(f));

const jsonText = (value: unknown): string => sanitizeJson(JSON.stringify(value));

function window(flags: ParsedFlags, name: string, fallback: string): { fromMs: number; toMs: number; text: string } {
  const text = stringFlag(flags, name) ?? fallback;
  const ms = durationFlag(flags, name, fallback);
  if (ms <= 0) throw new UsageError(`--${name}: a window longer than 0 (examples: 30m, 24h, 7d)`);
  const toMs = Date.now();
  return { fromMs: toMs - ms, toMs, text };
}

function openHistory(flags: ParsedFlags, ref: string, fromMs: number, toMs: number): ContainerHistory {
  const reader = StoreReader.open(storeDir(flags), (message) => {
    process.stderr.write(`tstop: warning: ${message}\n`);
  });
  return readContainerHistory(reader, ref, fromMs, toMs);
}

function who(history: ContainerHistory): string {
  const names = [...new Set(history.identities.map((i) => i.name))];
  const ids = [...new Set(history.identities.map((i) => i.id))];
  const name = names.length === 1 ? names[0] : names.join(' / ');
  const shown = ids.length === 1 && ids[0] === name ? name : `${name} (${ids.join(', ')})`;
  return printable(shown);
}

function oneContainer(positionals: string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`give the container to ${what} (name, id or /cgroup/path)`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (one container at a time)`);
  return positionals[0];
}

/** The proposed limits, checked as `tstop limit` checks them (same messages, same minimums). */
function proposedLimits(flags: ParsedFlags): ProposedLimits {
  const req: Record<string, string> = {};
  for (const [flag, key] of REPLAYABLE) {
    const v = stringFlag(flags, flag);
    if (v !== undefined) req[key] = v;
  }
  if (Object.keys(req).length === 0)
    throw new UsageError('--what-if needs a limit to replay: --memory, --cpus and/or --pids-limit');
  const parsed = parseRequest(req, () => 'missing');
  for (const [flag, key] of REPLAYABLE)
    if (parsed[key] === UNLIMITED)
      throw new UsageError(`--what-if: --${flag} ${req[key]} has nothing to exceed; give a limit to replay`);
  const out: ProposedLimits = {};
  if (typeof parsed.memory === 'number') out.memoryBytes = parsed.memory;
  if (typeof parsed.cpus === 'number') out.cpuCores = parsed.cpus / 1e9;
  if (typeof parsed.pidsLimit === 'number') out.pidsLimit = parsed.pidsLimit;
  return out;
}

function context(history: ContainerHistory, windowText: string, fromMs: number): ReportContext {
  return { who: who(history), intervalMs: history.range.intervalMs, windowText, windowStartMs: fromMs };
}

/** `tstop limit C ... --what-if WINDOW`: replays, prints, writes nothing. */
export async function runWhatIf(flags: ParsedFlags, positionals: string[]): Promise<number> {
  for (const [name, v] of Object.entries(flags)) {
    if (v === undefined || WHAT_IF_FLAGS.includes(name)) continue;
    if (NOT_REPLAYABLE.includes(name))
      throw new UsageError(
        `--${name} cannot be replayed from a recording of usage; --what-if judges --memory, --cpus and --pids-limit`,
      );
    throw new UsageError(`--${name} does not apply with --what-if (it replays the recording and writes nothing)`);
  }
  const ref = oneContainer(positionals, 'replay');
  try {
    const limits = proposedLimits(flags);
    const { fromMs, toMs, text } = window(flags, 'what-if', '24h');
    const history = openHistory(flags, ref, fromMs, toMs);
    const report = whatIf(history.samples, limits);
    process.stdout.write(
      flags.json
        ? jsonText({ whatIf: true, written: false, ...windowJson(fromMs, toMs, history), ...report }) + '\n'
        : whatIfText(report, context(history, text, fromMs)),
    );
    return 0;
  } catch (err) {
    return limitFailed(err, 'limit --what-if');
  }
}

function windowJson(fromMs: number, toMs: number, history: ContainerHistory): object {
  return {
    window: { fromMs, toMs, from: formatTimeIso(fromMs), to: formatTimeIso(toMs) },
    intervalMs: history.range.intervalMs,
    containers: history.identities,
  };
}

/** The limiter's parse errors keep their own exit code (2), as `tstop limit` prints them. */
function limitFailed(err: unknown, command: string): number {
  if (err instanceof LimitError) {
    process.stderr.write(`tstop: ${command}: ${printable(err.message)}\n`);
    return err.exitCode;
  }
  throw err;
}

const PERCENT_RE = /^(\d+(?:\.\d+)?)%$/;

/** "15%" for both, or "cpu=20%,memory=10%" (either may be left out: the default stays). */
export function parseHeadroom(text: string | undefined): Headroom {
  if (text === undefined) return { ...DEFAULT_HEADROOM };
  const bad = (): UsageError =>
    new UsageError(`--headroom: '${text}' is not a headroom (examples: 15%, cpu=20%,memory=10%)`);
  const fraction = (p: string): number => {
    const m = PERCENT_RE.exec(p.trim());
    if (!m || Number(m[1]) > 1000) throw bad();
    return Number(m[1]) / 100;
  };
  if (!text.includes('=')) {
    const f = fraction(text);
    return { cpu: f, memory: f };
  }
  const out = { ...DEFAULT_HEADROOM };
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if ((key.trim() !== 'cpu' && key.trim() !== 'memory') || value === undefined) throw bad();
    out[key.trim() as keyof Headroom] = fraction(value);
  }
  return out;
}

/** A reference as the shell reads it. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_.:/@+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `tstop recommend C [--window 7d]`: suggestions, the command that applies them, and their what-if. */
export async function runRecommend(flags: ParsedFlags, positionals: string[]): Promise<number> {
  const ref = oneContainer(positionals, 'recommend limits for');
  const headroom = parseHeadroom(stringFlag(flags, 'headroom'));
  try {
    const { fromMs, toMs, text } = window(flags, 'window', '7d');
    const history = openHistory(flags, ref, fromMs, toMs);
    const rec = recommend(history.samples, headroom);
    const limits: ProposedLimits = {};
    const args: string[] = [];
    if (rec.memory) {
      limits.memoryBytes = rec.memory.bytes;
      args.push('--memory', formatBytesExact(rec.memory.bytes));
    }
    if (rec.cpu) {
      limits.cpuCores = rec.cpu.cores;
      args.push('--cpus', String(rec.cpu.cores));
    }
    const command = args.length > 0 ? `tstop limit ${shellWord(ref)} ${args.join(' ')}` : null;
    const report = args.length > 0 ? whatIf(history.samples, limits) : null;
    if (flags.json) {
      process.stdout.write(
        jsonText({ ...windowJson(fromMs, toMs, history), recommendation: rec, command, whatIf: report }) + '\n',
      );
      return 0;
    }
    const ctx = context(history, text, fromMs);
    process.stdout.write(recommendText(rec, { ...ctx, command }));
    if (report) process.stdout.write('\n' + whatIfText(report, ctx));
    return 0;
  } catch (err) {
    return limitFailed(err, 'recommend');
  }
}
