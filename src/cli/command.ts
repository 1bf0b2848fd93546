// A small declarative command layer over node:util parseArgs: each command
// declares its flags once; help text, parsing and errors come from that.
// Commands load their implementation lazily so `tstop run` does not pay for
// the dashboard's or the exporter's modules.

import { parseArgs } from 'node:util';
import { DurationError, parseDurationMs } from '../util/duration.js';
import { UsageError } from '../util/errors.js';

export interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** Placeholder in help, e.g. "DIR". */
  value?: string;
  description: string;
  default?: string;
}

export type ParsedFlags = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  flags: FlagSpec[];
  examples?: string[];
  /** Accepts positional arguments (after flags or after "--"). */
  positionals?: boolean;
  /** Stops flag parsing at the first positional (for commands that run another command). */
  stopAtPositional?: boolean;
  run: (flags: ParsedFlags, positionals: string[]) => Promise<number>;
}

export function helpText(cmd: CommandSpec, program = 'tstop'): string {
  const lines = [`Usage: ${program} ${cmd.usage}`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.flags.length > 0) {
    lines.push('', 'Options:');
    const left = cmd.flags.map((f) => {
      const name = `--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
      return f.short ? `-${f.short}, ${name}` : `    ${name}`;
    });
    const width = Math.min(34, Math.max(...left.map((l) => l.length)) + 2);
    cmd.flags.forEach((f, i) => {
      const def = f.default !== undefined ? ` (default: ${f.default})` : '';
      lines.push(`  ${`${left[i]}  `.padEnd(width)}${f.description}${def}`); // a long flag still gets its two spaces
    });
  }
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** A command's flags as node's parseArgs options. */
export function parseArgsOptions(
  cmd: CommandSpec,
): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of cmd.flags) {
    options[f.name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      // Single-value string flags are collected too, so a repeated one is an error, not "last wins".
      ...(f.multiple || f.type === 'string' ? { multiple: true } : {}),
    };
  }
  return options;
}

export function parseCommandLine(cmd: CommandSpec, argv: string[]): { flags: ParsedFlags; positionals: string[] } {
  let args = attachNegativeValues(cmd, argv);
  let rest: string[] = [];
  if (cmd.stopAtPositional) {
    const split = firstPositional(cmd, args);
    rest = args.slice(split);
    args = args.slice(0, split);
    if (rest[0] === '--') rest = rest.slice(1);
  }
  let parsed: { values: ParsedFlags; positionals: string[] } | null = simpleParse(cmd, args);
  if (parsed === null)
    try {
      parsed = parseArgs({
        args,
        options: parseArgsOptions(cmd),
        strict: true,
        allowPositionals: cmd.positionals ?? false,
      }) as { values: ParsedFlags; positionals: string[] };
    } catch (err) {
      throw new UsageError(cleanParseError(err));
    }
  const flags: ParsedFlags = { ...parsed.values };
  for (const f of cmd.flags) {
    const v = flags[f.name];
    if (f.type !== 'string' || f.multiple || !Array.isArray(v)) continue;
    if (v.length > 1) {
      throw new UsageError(`--${f.name} given more than once (${v.map((x) => `'${x}'`).join(' and ')}); give it once`);
    }
    flags[f.name] = v[0];
  }
  return { flags, positionals: [...parsed.positionals, ...rest] };
}

/**
 * parseArgs's result for the usual command line: known long or single short flags,
 * string values that do not start with '-', positionals where allowed. Anything
 * else (a group such as -it, an unknown flag, a value parseArgs would call
 * ambiguous, `--`) is null: parseArgs decides it, errors included. Node's
 * parseArgs is ~0.7 ms of cold code per `tstop run` (docs/benchmarks.md).
 */
export function simpleParse(cmd: CommandSpec, args: string[]): { values: ParsedFlags; positionals: string[] } | null {
  const values: ParsedFlags = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.length < 2 || a[0] !== '-') {
      if (a === '-' || a === '' || !cmd.positionals) return null;
      positionals.push(a);
      continue;
    }
    let flag: FlagSpec | undefined;
    let value: string | undefined;
    if (a[1] === '-') {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      flag = cmd.flags.find((f) => f.name === name);
      if (eq >= 0) value = a.slice(eq + 1);
    } else if (a.length === 2) flag = cmd.flags.find((f) => f.short === a[1]);
    if (flag === undefined) return null;
    if (flag.type === 'boolean') {
      if (value !== undefined || flag.multiple) return null;
      values[flag.name] = true;
      continue;
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined || value[0] === '-') return null;
    }
    if (value === '') return null;
    values[flag.name] = [...((values[flag.name] as string[] | undefined) ?? []), value];
  }
  return { values, positionals };
}

/**
 * "--pids-limit -1" as "--pids-limit=-1": parseArgs takes a value starting
 * with '-' for a flag and refuses it; a value starting with a minus and a digit is never a flag.
 */
function attachNegativeValues(cmd: CommandSpec, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    const flag = a.startsWith('--')
      ? cmd.flags.find((f) => f.name === a.slice(2))
      : /^-[^-]$/.test(a)
        ? cmd.flags.find((f) => f.short === a.slice(1))
        : undefined;
    if (flag?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${flag.name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/**
 * Whether the command line asks for help: --help (or -h, unless the command
 * uses -h itself, as run does for --hostname) among the command's own flags.
 * For commands that run another command, only flags before that command
 * count (`tstop run -- ls --help` runs ls --help).
 */
export function wantsHelp(cmd: CommandSpec, argv: string[]): boolean {
  const own = cmd.stopAtPositional ? argv.slice(0, firstPositional(cmd, argv)) : argv;
  const shortH = cmd.flags.some((f) => f.short === 'h');
  return own.includes('--help') || (!shortH && own.includes('-h'));
}

/** Index of the first argument that is not a flag or a flag's value. */
function firstPositional(cmd: CommandSpec, argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return i;
    if (!a.startsWith('-') || a === '-') return i;
    if (a.includes('=')) continue;
    const flag = a.startsWith('--')
      ? cmd.flags.find((f) => f.name === a.slice(2))
      : cmd.flags.find((f) => f.short === a.slice(1));
    if (flag?.type === 'string') i++;
  }
  return argv.length;
}

function cleanParseError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  // parseArgs messages carry a hint about "--" for positionals; keep the first sentence.
  return msg.split('\n')[0].split('. To specify')[0].replace(/\.$/, '');
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

/** A duration flag ("0", "500ms", "2s") in milliseconds; a bad value is a UsageError naming the flag. */
export function durationFlag(flags: ParsedFlags, name: string, fallback: string): number {
  try {
    return parseDurationMs(stringFlag(flags, name) ?? fallback);
  } catch (err) {
    if (err instanceof DurationError) throw new UsageError(`--${name}: ${err.message}`);
    throw err;
  }
}

export function listFlag(flags: ParsedFlags, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
