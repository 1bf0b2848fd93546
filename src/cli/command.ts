// A small declarative command layer over node:util parseArgs: each command
// declares its flags once; help text, parsing and errors come from that.
// Commands load their implementation lazily so `tstop run` does not pay for
// the dashboard's or the exporter's modules.

import { parseArgs } from 'node:util';

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

/** Bad command line: one clear line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
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
      lines.push(`  ${left[i].padEnd(width)}${f.description}${def}`);
    });
  }
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function parseCommandLine(cmd: CommandSpec, argv: string[]): { flags: ParsedFlags; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of cmd.flags) {
    options[f.name] = {
      type: f.type,
      ...(f.short ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  let args = argv;
  let rest: string[] = [];
  if (cmd.stopAtPositional) {
    const split = firstPositional(cmd, argv);
    args = argv.slice(0, split);
    rest = argv.slice(split);
    if (rest[0] === '--') rest = rest.slice(1);
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: cmd.positionals ?? false,
    });
    return { flags: values as ParsedFlags, positionals: [...positionals, ...rest] };
  } catch (err) {
    throw new UsageError(cleanParseError(err));
  }
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
  return msg.split('. To specify')[0].replace(/\.$/, '');
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function listFlag(flags: ParsedFlags, name: string): string[] {
  const v = flags[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
