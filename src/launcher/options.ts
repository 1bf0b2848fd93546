// The checked options of `tstop run` / `tstop exec` and the parsers of their
// values (src/cli/run.ts reads the flags). Pure apart from reading
// passwd/group files for -u NAME: every malformed value is a UsageError
// (exit 2) naming the flag, before anything is created.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../util/errors.js';
import type { LimitRequest } from '../limiter/api.js';
import type { IdMapping, UserSpec, Volume } from './spec.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunOptions {
  name: string;
  argv: string[];
  limits: LimitRequest;
  hostname: string;
  network: 'none' | 'host';
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
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  rm: boolean;
  init: boolean;
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

/** --security-opt: only no-new-privileges is known. */
export function parseSecurityOpts(values: string[]): boolean {
  let noNewPrivs = true;
  for (const v of values) {
    const m = /^no-new-privileges(?:[=:](true|false))?$/.exec(v);
    if (!m) {
      throw bad(
        'security-opt',
        v,
        'tstop knows only no-new-privileges[=true|false] (no seccomp, apparmor or selinux profiles)',
      );
    }
    noNewPrivs = m[1] !== 'false';
  }
  return noNewPrivs;
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
function readIds(file: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]))
      out.set(f[0], [Number(f[2]), /^\d+$/.test(f[3] ?? '') ? Number(f[3]) : -1]);
  }
  return out;
}

/**
 * -u USER[:GROUP] as ids: numbers as given; names from the container's
 * /etc/passwd and /etc/group (the rootfs's, or the host's without one).
 * A user name brings its primary group when no group is given.
 */
export function resolveUser(value: string | undefined, root: string): UserSpec | undefined {
  if (value === undefined) return undefined;
  const [u, g] = value.split(':');
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) uid = Number(u);
  else {
    const entry = readIds(path.join(root, 'etc/passwd')).get(u);
    if (!entry) throw new UsageError(`--user '${value}': no user '${u}' in ${path.join(root, 'etc/passwd')}`);
    uid = entry[0];
    if (entry[1] >= 0) gid = entry[1];
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const entry = readIds(path.join(root, 'etc/group')).get(g);
      if (!entry) throw new UsageError(`--user '${value}': no group '${g}' in ${path.join(root, 'etc/group')}`);
      gid = entry[0];
    }
  }
  if (uid > MAX_ID || (gid ?? 0) > MAX_ID) throw new UsageError(`--user '${value}': id out of range`);
  return { uid, gid: gid ?? uid };
}
