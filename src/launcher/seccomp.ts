/**
 * Seccomp profiles in Docker's JSON format (`--security-opt seccomp=FILE`),
 * checked here and reduced to the few records the helper loads with
 * libseccomp (native/src/seccomp.c): the default action, the architectures,
 * and one rule per syscall name whose `includes`/`excludes` (capabilities,
 * architecture, minimum kernel) hold for this container on this host.
 *
 * The default profile is profiles/seccomp-default.json (docs/launcher.md,
 * Security). Semantics as Docker's and runc's: several `args` on the same
 * index are alternatives (one rule each), `SCMP_CMP_MASKED_EQ` takes the
 * mask in `value` and the expected bits in `valueTwo`, `SCMP_ACT_ERRNO`
 * without `errnoRet` returns `defaultErrnoRet` (EPERM if absent), names a
 * kernel or libseccomp does not know are skipped.
 */
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExpectedError } from '../util/errors.js';
import { CAPABILITIES, type CompiledSeccomp } from './spec.js';
import { preparedDefaultSeccomp } from './seccomp-default.js';

export type { CompiledSeccomp };

/** A profile the launch cannot use: exit 125 before anything is created. */
export class SeccompProfileError extends ExpectedError {
  constructor(message: string) {
    super(message, 125);
  }
}

/** Docker action name -> the helper's token (an errno or trace value follows as ":N"). */
const ACTIONS: Readonly<Record<string, string>> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_KILL: 'kill_thread',
  SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_LOG: 'log',
};

const OPERATORS: Readonly<Record<string, string>> = {
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** Node's process.arch -> Docker's (Go's) architecture names, and libseccomp's native name. */
const HOST_ARCH: Readonly<Record<string, { go: string; scmp: string }>> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  arm: { go: 'arm', scmp: 'SCMP_ARCH_ARM' },
  ia32: { go: '386', scmp: 'SCMP_ARCH_X86' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
};

const PROFILE_KEYS = new Set(['comment', 'defaultAction', 'defaultErrnoRet', 'archMap', 'architectures', 'syscalls']);
const SYSCALL_KEYS = new Set(['names', 'name', 'action', 'errnoRet', 'args', 'includes', 'excludes', 'comment']);
const FILTER_KEYS = new Set(['caps', 'arches', 'minKernel']);
const ARG_KEYS = new Set(['index', 'value', 'valueTwo', 'op']);

export interface SeccompHost {
  /** Node's process.arch. */
  arch: string;
  /** os.release(), e.g. "6.1.0-18-amd64". */
  kernel: string;
}

type Json = unknown;

function bad(where: string, why: string): never {
  throw new SeccompProfileError(`seccomp profile ${where}: ${why}`);
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(where: string, o: Record<string, Json>, allowed: Set<string>): void {
  for (const k of Object.keys(o)) if (!allowed.has(k)) bad(where, `unknown field "${k}"`);
}

function stringList(where: string, v: Json): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(where, 'expected a list of strings');
  return v;
}

function errnoValue(where: string, v: Json): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 4095) bad(where, 'expected an errno in 0-4095');
  return v as number;
}

function action(where: string, name: Json, errnoRet: Json, defaultErrno: number): string {
  if (typeof name !== 'string' || !(name in ACTIONS)) {
    bad(where, `unknown action ${JSON.stringify(name)} (known: ${Object.keys(ACTIONS).join(', ')})`);
  }
  const token = ACTIONS[name];
  if (token === 'errno' || token === 'trace') {
    return `${token}:${errnoRet === undefined ? defaultErrno : errnoValue(`${where}.errnoRet`, errnoRet)}`;
  }
  if (errnoRet !== undefined) bad(where, `errnoRet needs SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${name}`);
  return token;
}

function u64(where: string, v: Json): bigint {
  if (v === undefined) return 0n;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(where, 'expected a non-negative integer');
  return BigInt(v);
}

function argRecord(where: string, a: Json): { index: number; text: string } {
  if (!isObject(a)) bad(where, 'expected an object');
  checkKeys(where, a, ARG_KEYS);
  if (!Number.isInteger(a.index) || (a.index as number) < 0 || (a.index as number) > 5) {
    bad(`${where}.index`, 'expected 0-5');
  }
  if (typeof a.op !== 'string' || !(a.op in OPERATORS)) bad(`${where}.op`, `unknown operator ${JSON.stringify(a.op)}`);
  const text = `${a.index as number}:${OPERATORS[a.op]}:${u64(`${where}.value`, a.value)}:${u64(`${where}.valueTwo`, a.valueTwo)}`;
  return { index: a.index as number, text };
}

/** "6.1.0-18-amd64" >= "4.8" */
function kernelAtLeast(release: string, min: string): boolean {
  const parse = (s: string): number[] => (/^(\d+)\.(\d+)/.exec(s) ?? ['', '0', '0']).slice(1).map(Number);
  const [a, b] = parse(release);
  const [x, y] = parse(min);
  return a > x || (a === x && b >= y);
}

function capNumber(where: string, name: string): number {
  const n = (CAPABILITIES as readonly string[]).indexOf(name.toUpperCase().replace(/^CAP_/, ''));
  if (n < 0) bad(where, `unknown capability ${JSON.stringify(name)}`);
  return n;
}

interface Filter {
  caps: number[];
  arches: string[];
  minKernel?: string;
}

function filter(where: string, v: Json): Filter | null {
  if (v === undefined || v === null) return null;
  if (!isObject(v)) bad(where, 'expected an object');
  checkKeys(where, v, FILTER_KEYS);
  const caps = stringList(`${where}.caps`, v.caps).map((c) => capNumber(`${where}.caps`, c));
  const arches = stringList(`${where}.arches`, v.arches);
  if (v.minKernel !== undefined && (typeof v.minKernel !== 'string' || !/^\d+\.\d+/.test(v.minKernel))) {
    bad(`${where}.minKernel`, 'expected a version like "4.8"');
  }
  return { caps, arches, ...(typeof v.minKernel === 'string' ? { minKernel: v.minKernel } : {}) };
}

/** Docker's rule: every listed capability and architecture present (includes), or none of them (excludes). */
function applies(inc: Filter | null, exc: Filter | null, caps: Set<number>, arch: string, kernel: string): boolean {
  if (inc) {
    if (!inc.caps.every((c) => caps.has(c))) return false;
    if (inc.arches.length > 0 && !inc.arches.includes(arch)) return false;
    if (inc.minKernel !== undefined && !kernelAtLeast(kernel, inc.minKernel)) return false;
  }
  if (exc) {
    if (exc.caps.some((c) => caps.has(c))) return false;
    if (exc.arches.includes(arch)) return false;
    if (exc.minKernel !== undefined && kernelAtLeast(kernel, exc.minKernel)) return false;
  }
  return true;
}

const scmpArch = (where: string, s: string): string => {
  if (!/^SCMP_ARCH_[A-Z0-9_]+$/.test(s)) bad(where, `unknown architecture ${JSON.stringify(s)}`);
  return s.slice('SCMP_ARCH_'.length).toLowerCase();
};

/** archMap entries (libseccomp names, the native one first) and the plain `architectures`. */
function architectureLists(p: Record<string, Json>): { archMap: [string, ...string[]][]; architectures: string[] } {
  const archMap: [string, ...string[]][] = [];
  if (p.archMap !== undefined) {
    if (!Array.isArray(p.archMap)) bad('archMap', 'expected a list');
    p.archMap.forEach((m: Json, i) => {
      const where = `archMap[${i}]`;
      if (!isObject(m) || typeof m.architecture !== 'string') bad(where, 'expected {architecture, subArchitectures}');
      checkKeys(where, m, new Set(['architecture', 'subArchitectures']));
      const subs = stringList(`${where}.subArchitectures`, m.subArchitectures);
      archMap.push([m.architecture, ...[m.architecture, ...subs].map((a) => scmpArch(where, a))]);
    });
  }
  const architectures = stringList('architectures', p.architectures).map((a) => scmpArch('architectures', a));
  return { archMap, architectures };
}

/**
 * A profile checked, its rules spelled out: what is left to decide for a
 * container (reduceSeccomp) depends only on its capabilities and the host.
 * Plain data (JSON): the bundle carries the default profile's, prepared at
 * build time (bin/build-launcher.mjs).
 */
export interface PreparedSeccomp {
  defaultAction: string;
  /** [Docker's native architecture name, then its libseccomp names (native first, then sub-architectures)]. */
  archMap: [string, ...string[]][];
  architectures: string[];
  syscalls: { includes: Filter | null; excludes: Filter | null; rules: string[] }[];
}

/** Checks a profile; throws SeccompProfileError naming the field for anything malformed or unsupported. */
export function prepareSeccomp(profile: Json): PreparedSeccomp {
  if (!isObject(profile)) bad('', 'expected a JSON object');
  checkKeys('', profile, PROFILE_KEYS);
  const defaultErrno =
    profile.defaultErrnoRet === undefined ? 1 : errnoValue('defaultErrnoRet', profile.defaultErrnoRet);
  const defaultAction = action('defaultAction', profile.defaultAction, undefined, defaultErrno);
  if (!Array.isArray(profile.syscalls)) {
    if (profile.syscalls !== undefined && profile.syscalls !== null) bad('syscalls', 'expected a list');
  }
  const syscalls: Json[] = Array.isArray(profile.syscalls) ? profile.syscalls : [];
  const prepared = syscalls.map((s, i) => {
    const where = `syscalls[${i}]`;
    if (!isObject(s)) bad(where, 'expected an object');
    checkKeys(where, s, SYSCALL_KEYS);
    const names = [...stringList(`${where}.names`, s.names), ...(typeof s.name === 'string' ? [s.name] : [])];
    if (s.name !== undefined && typeof s.name !== 'string') bad(`${where}.name`, 'expected a string');
    if (names.length === 0) bad(where, 'no syscall names');
    for (const n of names)
      if (!/^[a-z0-9_]+$/.test(n)) bad(`${where}.names`, `invalid syscall name ${JSON.stringify(n)}`);
    const act = action(`${where}.action`, s.action, s.errnoRet, defaultErrno);
    if (s.args !== undefined && s.args !== null && !Array.isArray(s.args)) bad(`${where}.args`, 'expected a list');
    const args = ((s.args as Json[] | null | undefined) ?? []).map((a, j) => argRecord(`${where}.args[${j}]`, a));
    const includes = filter(`${where}.includes`, s.includes);
    const excludes = filter(`${where}.excludes`, s.excludes);
    // Conditions on one index are alternatives: one rule per condition (runc does the same).
    const repeated = new Set(args.map((a) => a.index)).size < args.length;
    const argSets = repeated ? args.map((a) => [a.text]) : [args.map((a) => a.text)];
    const rules: string[] = [];
    for (const name of names) for (const set of argSets) rules.push([name, act, ...set].join(' '));
    return { includes, excludes, rules };
  });
  return { defaultAction, ...architectureLists(profile), syscalls: prepared };
}

/**
 * os.release(): the same uname field, read from /proc, because loading node:os (its first
 * require builds the builtin's ES module facade) is ~0.15 ms of a `tstop run`.
 */
export function kernelRelease(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(); // utf8: node's fast path (latin1 ~0.6 ms)
  } catch {
    return os.release(); // no /proc
  }
}

/** Keeps what applies to a container with `capabilities` on `host`. */
export function reduceSeccomp(
  p: PreparedSeccomp,
  capabilities: readonly number[],
  host: SeccompHost = { arch: process.arch, kernel: kernelRelease() },
): CompiledSeccomp {
  const hostArch = HOST_ARCH[host.arch];
  if (!hostArch) bad('', `no seccomp architecture known for ${host.arch}`);
  const caps = new Set(capabilities);
  const rules: string[] = [];
  for (const s of p.syscalls)
    if (applies(s.includes, s.excludes, caps, hostArch.go, host.kernel)) rules.push(...s.rules);
  const arches = new Set<string>();
  for (const [native, ...names] of p.archMap) if (native === hostArch.scmp) for (const a of names) arches.add(a);
  for (const a of p.architectures) arches.add(a);
  return { defaultAction: p.defaultAction, arches: [...arches], rules };
}

/**
 * Check a profile and keep what applies to a container with `capabilities`
 * on `host`. Throws SeccompProfileError naming the field for anything
 * malformed or unsupported.
 */
export function compileSeccomp(profile: Json, capabilities: readonly number[], host?: SeccompHost): CompiledSeccomp {
  return reduceSeccomp(prepareSeccomp(profile), capabilities, host);
}

/** profiles/seccomp-default.json, found by walking up from this module (src/ or dist/src/). */
export function defaultProfilePath(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const candidate = join(dir, 'profiles', 'seccomp-default.json');
    if (fs.existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new SeccompProfileError('profiles/seccomp-default.json not found in the package');
    dir = parent;
  }
}

export function readProfile(file: string): Json {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeccompProfileError(`seccomp profile ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw new SeccompProfileError(`seccomp profile ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Where the helper keeps the BPF programs it generated (native/src/seccomp-cache.c):
 * beside the run dir (/run/tstop.cache), not in it, which holds containers only;
 * the helper makes it root's, 0700.
 */
export function seccompCacheDir(runDir: string): string {
  return `${runDir}.cache`;
}

/** The default profile, prepared: by the build when this runs from the bundle, else from the file now. */
function defaultSeccomp(): PreparedSeccomp {
  const prepared = preparedDefaultSeccomp();
  if (prepared !== null) return JSON.parse(prepared) as PreparedSeccomp;
  return prepareSeccomp(readProfile(defaultProfilePath()));
}

/** `unconfined` -> null; a file -> its profile; undefined -> the default profile. */
export function loadSeccomp(choice: string | undefined, capabilities: readonly number[]): CompiledSeccomp | null {
  if (choice === 'unconfined') return null;
  if (choice === undefined) return reduceSeccomp(defaultSeccomp(), capabilities);
  const file = choice;
  try {
    return compileSeccomp(readProfile(file), capabilities);
  } catch (err) {
    if (err instanceof SeccompProfileError && choice !== undefined && !err.message.includes(file)) {
      throw new SeccompProfileError(err.message.replace('seccomp profile', `seccomp profile ${file}`));
    }
    throw err;
  }
}
