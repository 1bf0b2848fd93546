// The checked options of `tstop run` / `tstop exec` and the parsers of their
// values (src/cli/run.ts reads the flags). Pure apart from reading
// passwd/group files for -u NAME: every malformed value is a UsageError
// (exit 2) naming the flag, before anything is created.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../util/errors.js';
import type { LimitRequest } from '../limiter/api.js';
import { RLIMITS, type IdMapping, type Rlimit, type RlimitName, type UserSpec, type Volume } from './spec.js';
import type { DeviceRequest } from './devices.js';
import type { LogOptions } from './logs.js';
import type { RestartPolicy } from './restart.js';

import type { NetworkMode, NetworkRequest } from './network/flags.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunOptions {
  name: string;
  argv: string[];
  limits: LimitRequest;
  hostname: string;
  network: NetworkMode;
  /** -p, --dns, --add-host (./network/flags.ts); absent = none of them. */
  net?: NetworkRequest;
  /** The mapping of root inside; null = no user namespace. */
  userns: IdMapping | null;
  rootfs: string | null;
  readOnly: boolean;
  volumes: Volume[];
  workdir: string | undefined;
  /** -e as given: NAME=VALUE, or NAME alone (tstop's own value). */
  env: string[];
  user: string | undefined;
  capabilities: number[];
  noNewPrivs: boolean;
  /** --security-opt seccomp=: 'unconfined', a profile file, or undefined for the default profile. */
  seccomp: string | undefined;
  /** --oom-score-adj; 0 when not given (never the caller's). */
  oomScoreAdj: number;
  /** --ulimit values, over DEFAULT_RLIMITS. */
  rlimits: Rlimit[];
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  rm: boolean;
  init: boolean;
  /** --device, not yet looked up on the host. */
  devices: DeviceRequest[];
  /** --device-cgroup-rule, normalised ('c 1:3 rwm'). */
  deviceRules: string[];
  /** --log-opt: the detached log's cap and rotation. */
  log: LogOptions;
  /** --restart (only with -d): kept by the detached helper. */
  restart: RestartPolicy;

  /** --image NAME[:TAG]: an overlay of a loaded image as the rootfs (src/launcher/image/). */
  image?: string | null;
  /** --image-store DIR (else TSTOP_IMAGES, else /var/lib/tstop/images). */
  imageStore?: string;
  /** --entrypoint: replaces the image's Entrypoint and drops its Cmd ('' = no entrypoint), as docker's. */
  entrypoint?: string;
}

const MAX_ID = 0xfffffffe;

export function bad(flag: string, value: string, why: string): UsageError {
  return new UsageError(`--${flag} '${value}': ${why}`);
}

/** A random name: 12 hex digits, like a short docker id. */
export function randomName(): string {
  let s = '';
  for (let i = 0; i < 12; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}

export function parseUserns(value: string, uid: number): IdMapping | null {
  if (value === 'host' || value === '') return null;
  if (value === 'self') return { inside: 0, outside: uid, count: 1 };
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(value);
  if (!m) throw bad('userns', value, 'expected BASE[:COUNT] (e.g. 100000:65536), self or host');
  const outside = Number(m[1]);
  const count = m[2] === undefined ? 65536 : Number(m[2]);
  if (count < 1) throw bad('userns', value, 'the count must be at least 1');
  if (outside + count - 1 > MAX_ID) throw bad('userns', value, `the range ends above ${MAX_ID}`);
  if (outside === 0) throw bad('userns', value, 'mapping root inside to root outside isolates nothing; use host');
  return { inside: 0, outside, count };
}

export function parseVolume(value: string): Volume {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) throw bad('volume', value, 'expected SRC:DST or SRC:DST:ro');
  const [source, target, mode] = parts;
  if (!path.isAbsolute(source)) throw bad('volume', value, 'the source must be an absolute host path');
  if (!path.isAbsolute(target)) throw bad('volume', value, 'the destination must be an absolute path');
  if (target.split('/').includes('..')) throw bad('volume', value, "the destination may not contain '..'");
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw bad('volume', value, "the mode is 'ro' or 'rw'");
  return { source: path.normalize(source), target: path.normalize(target), readonly: mode === 'ro' };
}

export interface SecurityOpts {
  noNewPrivs: boolean;
  /** 'unconfined', an absolute profile path, or undefined (the default profile). */
  seccomp: string | undefined;
}

/** --security-opt: no-new-privileges[=true|false], seccomp=unconfined|PROFILE.json. */
export function parseSecurityOpts(values: string[], cwd: string = process.cwd()): SecurityOpts {
  const out: SecurityOpts = { noNewPrivs: true, seccomp: undefined };
  for (const v of values) {
    const nnp = /^no-new-privileges(?:[=:](true|false))?$/.exec(v);
    const seccomp = /^seccomp[=:](.+)$/.exec(v);
    if (nnp) out.noNewPrivs = nnp[1] !== 'false';
    else if (seccomp) out.seccomp = seccomp[1] === 'unconfined' ? 'unconfined' : path.resolve(cwd, seccomp[1]);
    else {
      throw bad(
        'security-opt',
        v,
        'tstop knows no-new-privileges[=true|false] and seccomp=unconfined|PROFILE.json (no apparmor or selinux)',
      );
    }
  }
  return out;
}

/**
 * The rlimits a container gets unless --ulimit says otherwise, instead of
 * the caller's: open files 1024 soft / 524288 hard, what Docker's
 * containers get on a systemd host (the daemon sets none itself; systemd's
 * default for services). The hard limit is capped at tstop's own, since
 * raising it needs CAP_SYS_RESOURCE.
 */
export const DEFAULT_RLIMITS: readonly Rlimit[] = [{ name: 'nofile', soft: 1024, hard: 524288 }];

/** Our own hard limit from /proc/self/limits (-1 = unlimited, null = unknown). */
export function ownHardLimit(name: RlimitName, limitsText?: string): number | null {
  const label: Partial<Record<RlimitName, string>> = { nofile: 'Max open files', nproc: 'Max processes' };
  let text = limitsText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const line = text.split('\n').find((l) => label[name] !== undefined && l.startsWith(label[name] as string));
  const hard = line
    ?.slice((label[name] as string).length)
    .trim()
    .split(/\s+/)[1];
  if (hard === undefined) return null;
  return hard === 'unlimited' ? -1 : Number(hard);
}

function limitValue(flag: string, v: string): number {
  if (v === 'unlimited' || v === '-1') return -1;
  if (!/^\d{1,19}$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad('ulimit', flag, `${v} is not a limit`);
  return Number(v);
}

/** --ulimit NAME=SOFT[:HARD] (docker's form; -1 or unlimited), over DEFAULT_RLIMITS. */
export function parseUlimits(values: string[], limitsText?: string): Rlimit[] {
  const out = new Map<RlimitName, Rlimit>();
  for (const d of DEFAULT_RLIMITS) {
    const own = ownHardLimit(d.name, limitsText);
    const hard = own === null || own === -1 ? d.hard : Math.min(d.hard, own);
    out.set(d.name, { name: d.name, soft: Math.min(d.soft, hard), hard });
  }
  for (const v of values) {
    const m = /^([a-z]+)=([^:]+)(?::([^:]+))?$/.exec(v);
    if (!m) throw bad('ulimit', v, 'expected NAME=SOFT[:HARD]');
    const name = m[1] as RlimitName;
    if (!(RLIMITS as readonly string[]).includes(name)) {
      throw bad('ulimit', v, `unknown limit '${m[1]}' (known: ${RLIMITS.join(', ')})`);
    }
    const soft = limitValue(v, m[2]);
    const hard = m[3] === undefined ? soft : limitValue(v, m[3]);
    if (hard !== -1 && (soft === -1 || soft > hard)) throw bad('ulimit', v, 'the soft limit is above the hard limit');
    out.set(name, { name, soft, hard });
  }
  return [...out.values()];
}

export function parseOomScoreAdj(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^-?\d{1,4}$/.test(value) || Number(value) < -1000 || Number(value) > 1000) {
    throw bad('oom-score-adj', value, 'expected an integer from -1000 to 1000');
  }
  return Number(value);
}

export function parseEnvFlags(values: string[]): string[] {
  for (const v of values) {
    const name = v.includes('=') ? v.slice(0, v.indexOf('=')) : v;
    if (name === '' || /[\s\0]/.test(name)) throw bad('env', v, 'expected NAME=VALUE or NAME');
  }
  return values;
}

/** The workload's environment: docker's defaults, then -e in order. */
export function buildEnv(
  base: Record<string, string>,
  flags: string[],
  own: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env = { ...base };
  for (const v of flags) {
    const eq = v.indexOf('=');
    if (eq >= 0) env[v.slice(0, eq)] = v.slice(eq + 1);
    else if (own[v] !== undefined) env[v] = own[v] as string;
  }
  return env;
}

/** Entries of an /etc/passwd or /etc/group file: name -> [id, primary gid]. */
function readIds(text: string | null): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]))
      out.set(f[0], [Number(f[2]), /^\d+$/.test(f[3] ?? '') ? Number(f[3]) : -1]);
  }
  return out;
}

/** Plain reads under root (the host's own files); containers' are read with ./root-files.ts. */
function plainReader(root: string): (rel: string) => string | null {
  return (rel) => {
    try {
      return fs.readFileSync(path.join(root, rel), 'utf8');
    } catch {
      return null;
    }
  };
}

/**
 * -u USER[:GROUP] as ids: numbers as given; names from the container's
 * /etc/passwd and /etc/group (the rootfs's, or the host's without one),
 * read with `read` (rootFileReader: resolved inside the container's root).
 * A user name brings its primary group when no group is given.
 */
export function resolveUser(
  value: string | undefined,
  root: string,
  read: (rel: string) => string | null = plainReader(root),
): UserSpec | undefined {
  if (value === undefined) return undefined;
  const [u, g] = value.split(':');
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const entry = readIds(read('etc/passwd')).get(u);
    if (!entry) throw new UsageError(`--user '${value}': no user '${u}' in ${path.join(root, 'etc/passwd')}`);
    uid = entry[0];
    if (entry[1] >= 0) gid = entry[1];
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const entry = readIds(read('etc/group')).get(g);
      if (!entry) throw new UsageError(`--user '${value}': no group '${g}' in ${path.join(root, 'etc/group')}`);
      gid = entry[0];
    }
  }
  if (uid > MAX_ID || (gid ?? 0) > MAX_ID) throw new UsageError(`--user '${value}': id out of range`);
  return { uid, gid: gid ?? uid };
}
