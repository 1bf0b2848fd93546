// From `tstop run` / `tstop exec` flags to checked options. Pure apart from
// reading passwd/group files for -u NAME: every malformed value is a
// UsageError (exit 2) naming the flag, before anything is created.

import fs from 'node:fs';
import path from 'node:path';
import { listFlag, stringFlag, UsageError, type ParsedFlags } from '../cli/command.js';
import type { LimitRequest } from '../limiter/api.js';
import { LIMIT_VALUE_FLAGS } from '../cli/commands/limit.js';
import { NAME_RE } from './state.js';
import { parseDeviceFlag, parseDeviceRule, type DeviceRequest } from './devices.js';
import { parseLogOpts, type LogOptions } from './logs.js';
import { resolveCapabilities, SpecError, type IdMapping, type UserSpec, type Volume } from './spec.js';

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
  /** --device, not yet looked up on the host. */
  devices: DeviceRequest[];
  /** --device-cgroup-rule, normalised ('c 1:3 rwm'). */
  deviceRules: string[];
  /** --log-opt: the detached log's cap and rotation. */
  log: LogOptions;
}

const MAX_ID = 0xfffffffe;

function bad(flag: string, value: string, why: string): UsageError {
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

/** The limit flags as a LimitRequest: --memory-swap -> memorySwap (the limiter parses the values). */
function limitRequest(flags: ParsedFlags): LimitRequest {
  const req: Record<string, string | string[]> = {};
  for (const f of LIMIT_VALUE_FLAGS) {
    const key = f.name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (f.multiple) {
      const v = listFlag(flags, f.name);
      if (v.length > 0) req[key] = v;
    } else {
      const v = stringFlag(flags, f.name);
      if (v !== undefined) req[key] = v;
    }
  }
  return req as LimitRequest;
}

export function parseRunFlags(flags: ParsedFlags, argv: string[], uid = process.getuid?.() ?? 0): RunOptions {
  if (argv.length === 0) throw new UsageError('give the command to run (tstop run [OPTIONS] [--] COMMAND [ARG...])');
  if (argv[0] === '') throw new UsageError('the command is empty');
  const given = stringFlag(flags, 'name');
  if (given !== undefined && !NAME_RE.test(given)) {
    throw bad('name', given, 'a name is 1-128 of a-z A-Z 0-9 _ . - and starts with a letter or digit');
  }
  const name = given ?? randomName();
  const hostname = stringFlag(flags, 'hostname') ?? name.slice(0, 63);
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(hostname) || hostname.endsWith('-')) {
    throw bad('hostname', hostname, 'a hostname is 1-63 of a-z A-Z 0-9 . - and starts with a letter or digit');
  }
  const network = stringFlag(flags, 'network') ?? 'none';
  if (network !== 'none' && network !== 'host') {
    throw bad('network', network, "tstop offers 'none' (own namespace with lo only) and 'host'");
  }
  const userns = parseUserns(stringFlag(flags, 'userns') ?? 'host', uid);
  const rootfsFlag = stringFlag(flags, 'rootfs');
  // A relative rootfs is taken from the current directory.
  const rootfs = rootfsFlag === undefined ? null : path.resolve(rootfsFlag);
  const readOnly = flags['read-only'] === true;
  if (readOnly && rootfs === null) {
    throw new UsageError("--read-only needs --rootfs (without it the container sees the host's /)");
  }
  const volumes = listFlag(flags, 'volume').map(parseVolume);
  if (volumes.length > 0 && rootfs === null) {
    throw new UsageError("--volume needs --rootfs (without it the container already sees the host's files)");
  }
  const workdir = stringFlag(flags, 'workdir');
  if (workdir !== undefined && !path.isAbsolute(workdir)) throw bad('workdir', workdir, 'must be an absolute path');
  let capabilities: number[];
  try {
    capabilities = resolveCapabilities({ add: listFlag(flags, 'cap-add'), drop: listFlag(flags, 'cap-drop') });
  } catch (err) {
    if (err instanceof SpecError) throw new UsageError(`--cap-add/--cap-drop: ${err.message}`);
    throw err;
  }
  const detach = flags.detach === true;
  const interactive = flags.interactive === true;
  const tty = flags.tty === true;
  if (detach && (interactive || tty)) {
    throw new UsageError('-d cannot be combined with -i or -t: tstop does not attach later; use tstop exec -it');
  }
  const user = stringFlag(flags, 'user');
  if (user !== undefined && !/^[^:\s]+(:[^:\s]+)?$/.test(user)) throw bad('user', user, 'expected USER[:GROUP]');
  return {
    name,
    argv,
    limits: limitRequest(flags),
    hostname,
    network,
    userns,
    rootfs,
    readOnly,
    volumes,
    workdir,
    env: parseEnvFlags(listFlag(flags, 'env')),
    user,
    capabilities,
    noNewPrivs: parseSecurityOpts(listFlag(flags, 'security-opt')),
    interactive,
    tty,
    detach,
    rm: flags.rm === true,
    init: flags.init === true,
    devices: listFlag(flags, 'device').map(parseDeviceFlag),
    deviceRules: listFlag(flags, 'device-cgroup-rule').map(parseDeviceRule),
    log: parseLogOpts(listFlag(flags, 'log-opt')),
  };
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
