/**
 * The launch spec tstop hands to native/build/tstop-helper.
 *
 * Wire format (see native/README.md): NUL-terminated `key=value` records,
 * written to the helper's fd 3. Lists are repeated keys. The first record is
 * `version=1`, the last `end=1`, so the helper rejects a truncated spec.
 * Values are raw bytes (UTF-8 here) and may contain `=`; only NUL is
 * forbidden. The helper rejects unknown keys.
 */

import { ExpectedError } from '../util/errors.js';

export const SPEC_VERSION = 1;

export const NAMESPACES = ['user', 'mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** Linux capability names, index = capability number (CAP_CHOWN = 0 ...). */
export const CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;
export type CapabilityName = (typeof CAPABILITIES)[number];

/** Docker's default capability set (CapEff 00000000a80425fb). */
export const DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

/** Docker's default masked paths (moby oci defaults). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Docker's default read-only paths. */
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/** One line of uid_map/gid_map: `inside outside count`. */
export interface IdMapping {
  inside: number;
  outside: number;
  count: number;
}

/** Bind mount into the rootfs (`mount=SRC:DST[:ro]`). */
export interface Volume {
  source: string;
  target: string;
  readonly?: boolean;
}

export interface UserSpec {
  uid: number;
  /** Defaults to uid. */
  gid?: number;
  /** Supplementary groups; none when omitted. */
  groups?: readonly number[];
}

interface CommonSpec {
  /** argv[0] is searched on the PATH in env (execvp semantics). */
  argv: readonly string[];
  /** The workload's complete environment. */
  env: Readonly<Record<string, string>>;
  /** Defaults to "/". */
  cwd?: string;
  /** Defaults to 0:0 (root of the container's user namespace). */
  user?: UserSpec;
  /** Final capability numbers (see resolveCapabilities). Empty = none. */
  capabilities: readonly number[];
  /** PR_SET_NO_NEW_PRIVS; default true. */
  noNewPrivs?: boolean;
  /** Allocate a pty in the container and relay it to the helper's stdio. */
  tty?: boolean;
  /** cgroup.procs files to join before the workload starts. */
  cgroupProcs?: readonly string[];
  /** fd (>= 3) the helper writes `pid=`, `exit=`, `error=` lines to. */
  reportFd?: number;
  /** Seccomp filter (src/launcher/seccomp.ts); none when absent or null. */
  seccomp?: CompiledSeccomp | null;
  /**
   * A directory (beside tstop's run dir: /run/tstop.cache) where the helper keeps
   * the BPF program libseccomp generated for these seccomp records, so the
   * next launch with the same records loads it instead of generating it
   * again (native/src/seccomp-cache.c).
   */
  seccompCache?: string;
  /** Written to /proc/self/oom_score_adj before exec; the caller's is inherited when absent. */
  oomScoreAdj?: number;
  /** setrlimit before exec; the caller's limits are inherited for the rest. */
  rlimits?: readonly Rlimit[];
}

/** A seccomp profile reduced for the helper (src/launcher/seccomp.ts): records `seccomp_default`, `seccomp_arch`, `seccomp_rule`. */
export interface CompiledSeccomp {
  /** "errno:1", "allow", "kill_process"... */
  defaultAction: string;
  /** libseccomp names: "x86_64", "x86", "x32". */
  arches: string[];
  /** "NAME ACTION[:N] [INDEX:OP:VALUE:VALUETWO]..." */
  rules: string[];
}

/** Resource limit names the helper knows (RLIMIT_<NAME>, lower case as `--ulimit` takes them). */
export const RLIMITS = [
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;
export type RlimitName = (typeof RLIMITS)[number];

/** One limit; -1 = unlimited (RLIM_INFINITY). */
export interface Rlimit {
  name: RlimitName;
  soft: number;
  hard: number;
}

export interface RunSpec extends CommonSpec {
  mode: 'run';
  namespaces: readonly Namespace[];
  hostname?: string;
  uidMap?: readonly IdMapping[];
  gidMap?: readonly IdMapping[];
  /** Written to /proc/<pid>/setgroups before gid_map; default 'deny'. */
  setgroups?: 'deny' | 'allow';
  /** Use clone3(CLONE_INTO_CGROUP) for a cgroup2 entry; default true. */
  cgroupClone?: boolean;
  rootfs?: string;
  /** overlayfs mount options (lowerdir=...,upperdir=...,workdir=...) mounted on rootfs in the container's namespace. */
  rootfsOverlay?: string;
  readonlyRootfs?: boolean;
  volumes?: readonly Volume[];
  /** Defaults to DEFAULT_MASKED_PATHS when the spec has a mount namespace. */
  maskedPaths?: readonly string[];
  /** Defaults to DEFAULT_READONLY_PATHS when the spec has a mount namespace. */
  readonlyPaths?: readonly string[];
  /** Run the helper's minimal init as PID 1 (like docker run --init). */
  init?: boolean;
  /** cgroup v2: the cgroup directory the helper attaches its device filter (deviceAllow) to. */
  deviceCgroup?: string;
  /** Allowed devices ('c 1:3 rwm'); everything else is denied. Needs deviceCgroup. */
  deviceAllow?: readonly string[];
  /** --device nodes made in the container's /dev: TYPE:MAJ:MIN:MODE:PATH:HOSTPATH. Needs rootfs. */
  deviceNodes?: readonly string[];
  /** Detached: stdout and stderr through the helper's logger into path, rotated at maxBytes, maxFiles kept. */
  log?: { path: string; maxBytes: number; maxFiles: number };
  /** Detached --restart: the helper restarts the workload (maxRetries 0: no limit) until stopFlag exists. */
  restart?: { policy: 'no' | 'on-failure' | 'always' | 'unless-stopped'; maxRetries: number; stopFlag: string };

  /** --network container:NAME: fd (>= 3) of that container's netns, joined before clone (no 'net' namespace then). */
  netnsFd?: number;
  /** --network bridge: fd (>= 3) the helper waits on for '1' after reporting netns=PID (needs the 'net' namespace). */
  netWaitFd?: number;
  /** With netWaitFd: eth0's "A.B.C.D/N" and default gateway, set by the child itself (ioctls, no spawn). */
  netAddress?: string;
  netGateway?: string;
  /** A foreground container the helper owns in tstop's place (tstop exec'd it: ./exec-in-place.ts, native/src/owner.c). */
  owner?: OwnerSpec;
}

/** What the helper keeps for a foreground container it owns. */
export interface OwnerSpec {
  stateFile: string;
  /** The state as JSON without its closing brace and without the fields the helper writes (pid, times, status, exit). */
  stateJson: string;
  /** memory.oom_control / memory.events of the container's cgroup; null without a memory controller. */
  oomFile: string | null;
  /** Files removed with the state (--rm, or a launch that failed before the workload ran). */
  remove: readonly string[];
  autoRemove: boolean;
  stdinNull: boolean;
}

export interface ExecSpec extends CommonSpec {
  mode: 'exec';
  /** Host pid of a process inside the target container. */
  pid: number;
}

export type LauncherSpec = RunSpec | ExecSpec;

/** A spec the helper would refuse: the launch fails before the workload runs (125). */
export class SpecError extends ExpectedError {
  constructor(message: string) {
    super(message, 125);
  }
}

const MAX_ID = 0xfffffffe; // (uid_t)-1 is "no change" to the kernel

function fail(message: string): never {
  throw new SpecError(message);
}

function checkId(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_ID) fail(`${what}: ${n} is not a valid id`);
  return n;
}

function checkAbsolute(what: string, p: string): string {
  if (!p.startsWith('/')) fail(`${what}: ${JSON.stringify(p)} must be an absolute path`);
  return p;
}

/** Accepts CHOWN, chown, CAP_CHOWN, cap_chown. */
export function capabilityNumber(name: string): number {
  const bare = name.toUpperCase().replace(/^CAP_/, '');
  const n = (CAPABILITIES as readonly string[]).indexOf(bare);
  if (n < 0) fail(`unknown capability ${JSON.stringify(name)}`);
  return n;
}

export interface CapabilityChanges {
  add?: readonly string[];
  drop?: readonly string[];
  /** Defaults to DEFAULT_CAPABILITIES. */
  base?: readonly string[];
}

/**
 * Docker's --cap-add/--cap-drop rules, resolved to sorted numbers:
 * add ALL starts from every capability; drop ALL starts from none; otherwise
 * the base set. Then specific drops are removed and specific adds added
 * (an explicit add wins over an explicit drop).
 */
export function resolveCapabilities(changes: CapabilityChanges = {}): number[] {
  const isAll = (s: string): boolean => s.toUpperCase() === 'ALL';
  const add = changes.add ?? [];
  const drop = changes.drop ?? [];
  let set: Set<number>;
  if (add.some(isAll)) set = new Set(CAPABILITIES.map((_, i) => i));
  else if (drop.some(isAll)) set = new Set();
  else set = new Set((changes.base ?? DEFAULT_CAPABILITIES).map(capabilityNumber));
  for (const d of drop) if (!isAll(d)) set.delete(capabilityNumber(d));
  for (const a of add) if (!isAll(a)) set.add(capabilityNumber(a));
  return [...set].sort((a, b) => a - b);
}

/** Capability numbers as the 16-hex-digit mask /proc/<pid>/status shows. */
export function capabilityMask(caps: readonly number[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(c);
  return mask.toString(16).padStart(16, '0');
}

/** Inverse of capabilityMask, e.g. for CapEff read from /proc. */
export function capabilitiesFromMask(hex: string): CapabilityName[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return CAPABILITIES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** The usual rootful mapping: container 0..count-1 -> host base..base+count-1. */
export function rangeMapping(base: number, count = 65536): IdMapping {
  return { inside: 0, outside: base, count };
}

function mapLine(what: string, m: IdMapping): string {
  checkId(`${what}.inside`, m.inside);
  checkId(`${what}.outside`, m.outside);
  if (!Number.isInteger(m.count) || m.count < 1) fail(`${what}.count must be a positive integer`);
  return `${m.inside} ${m.outside} ${m.count}`;
}

class Records {
  readonly list: string[] = [`version=${SPEC_VERSION}`];
  add(key: string, value: string | number): void {
    const v = String(value);
    if (v.includes('\0')) fail(`${key}: value contains a NUL byte`);
    this.list.push(`${key}=${v}`);
  }
  flag(key: string, on: boolean | undefined, dflt: boolean): void {
    if (on !== undefined && on !== dflt) this.add(key, on ? 1 : 0);
  }
}

function addCommon(r: Records, spec: CommonSpec): void {
  if (spec.argv.length === 0) fail('argv must not be empty');
  if (spec.argv[0] === '') fail('argv[0] must not be empty');
  for (const a of spec.argv) r.add('argv', a);
  for (const [k, v] of Object.entries(spec.env)) {
    if (k === '' || k.includes('=')) fail(`env: invalid variable name ${JSON.stringify(k)}`);
    r.add('env', `${k}=${v}`);
  }
  if (spec.cwd !== undefined) r.add('cwd', checkAbsolute('cwd', spec.cwd));
  if (spec.user) {
    const uid = checkId('user.uid', spec.user.uid);
    const gid = checkId('user.gid', spec.user.gid ?? uid);
    r.add('user', `${uid}:${gid}`);
    for (const g of spec.user.groups ?? []) r.add('group', checkId('user.groups', g));
  }
  for (const c of new Set(spec.capabilities)) {
    if (!Number.isInteger(c) || c < 0 || c > 63) fail(`capability number ${c} out of range`);
    r.add('cap', c);
  }
  r.flag('no_new_privs', spec.noNewPrivs, true);
  r.flag('tty', spec.tty, false);
  for (const p of spec.cgroupProcs ?? []) r.add('cgroup_procs', checkAbsolute('cgroupProcs', p));
  if (spec.seccomp) {
    r.add('seccomp_default', spec.seccomp.defaultAction);
    for (const a of spec.seccomp.arches) r.add('seccomp_arch', a);
    for (const rule of spec.seccomp.rules) r.add('seccomp_rule', rule);
    if (spec.seccompCache !== undefined) r.add('seccomp_cache', checkAbsolute('seccompCache', spec.seccompCache));
  }
  if (spec.oomScoreAdj !== undefined) {
    const n = spec.oomScoreAdj;
    if (!Number.isInteger(n) || n < -1000 || n > 1000) fail(`oomScoreAdj ${n}: expected an integer in [-1000, 1000]`);
    r.add('oom_score_adj', n);
  }
  for (const l of spec.rlimits ?? []) {
    if (!(RLIMITS as readonly string[]).includes(l.name)) fail(`unknown rlimit ${JSON.stringify(l.name)}`);
    const v = (x: number): string => {
      if (x === -1) return 'unlimited';
      if (!Number.isSafeInteger(x) || x < 0) fail(`rlimit ${l.name}: ${x} is not a valid limit`);
      return String(x);
    };
    if (l.hard !== -1 && (l.soft === -1 || l.soft > l.hard))
      fail(`rlimit ${l.name}: soft ${l.soft} above hard ${l.hard}`);
    r.add('rlimit', `${l.name} ${v(l.soft)} ${v(l.hard)}`);
  }
  if (spec.reportFd !== undefined) {
    if (!Number.isInteger(spec.reportFd) || spec.reportFd < 3) fail('reportFd must be an integer >= 3');
    r.add('report_fd', spec.reportFd);
  }
}

function addRun(r: Records, spec: RunSpec): void {
  const ns = new Set(spec.namespaces);
  for (const n of ns) {
    if (!(NAMESPACES as readonly string[]).includes(n)) fail(`unknown namespace ${JSON.stringify(n)}`);
    r.add('ns', n);
  }
  if (spec.hostname !== undefined) {
    if (!ns.has('uts')) fail('hostname needs the uts namespace (it would rename the host)');
    if (spec.hostname.length < 1 || spec.hostname.length > 64) fail('hostname must be 1 to 64 characters');
    r.add('hostname', spec.hostname);
  }
  const userns = ns.has('user');
  const uidMap = spec.uidMap ?? [];
  const gidMap = spec.gidMap ?? [];
  if (userns && (uidMap.length === 0 || gidMap.length === 0)) fail('the user namespace needs uidMap and gidMap');
  if (!userns && (uidMap.length > 0 || gidMap.length > 0)) fail('uidMap/gidMap need the user namespace');
  uidMap.forEach((m) => r.add('uid_map', mapLine('uidMap', m)));
  gidMap.forEach((m) => r.add('gid_map', mapLine('gidMap', m)));
  if (userns && spec.setgroups === 'allow') r.add('setgroups', 'allow');
  r.flag('cgroup_clone', spec.cgroupClone, true);

  const mnt = ns.has('mnt');
  if (spec.rootfs !== undefined) {
    if (!mnt) fail('rootfs needs the mnt namespace');
    r.add('rootfs', checkAbsolute('rootfs', spec.rootfs));
  }
  if (spec.rootfsOverlay !== undefined) {
    if (spec.rootfs === undefined) fail('rootfsOverlay needs a rootfs');
    r.add('rootfs_overlay', spec.rootfsOverlay);
  }
  r.flag('readonly', spec.readonlyRootfs, false);
  for (const v of spec.volumes ?? []) {
    if (spec.rootfs === undefined) fail('volumes need a rootfs');
    checkAbsolute('volume source', v.source);
    checkAbsolute('volume target', v.target);
    if (v.source.includes(':') || v.target.includes(':')) fail(`volume ${v.source}: paths may not contain ":"`);
    if (v.target.split('/').includes('..')) fail(`volume target ${v.target}: ".." is not allowed`);
    r.add('mount', `${v.source}:${v.target}${v.readonly ? ':ro' : ''}`);
  }
  if (mnt) {
    for (const p of spec.maskedPaths ?? DEFAULT_MASKED_PATHS) r.add('mask', checkAbsolute('maskedPaths', p));
    for (const p of spec.readonlyPaths ?? DEFAULT_READONLY_PATHS)
      r.add('readonly_path', checkAbsolute('readonlyPaths', p));
  } else if ((spec.maskedPaths?.length ?? 0) > 0 || (spec.readonlyPaths?.length ?? 0) > 0) {
    fail('maskedPaths/readonlyPaths need the mnt namespace');
  }
  r.flag('init', spec.init, false);
  if (spec.deviceCgroup !== undefined) r.add('device_cgroup', checkAbsolute('deviceCgroup', spec.deviceCgroup));
  else if ((spec.deviceAllow?.length ?? 0) > 0) fail('deviceAllow needs deviceCgroup');
  for (const rule of spec.deviceAllow ?? []) r.add('device_allow', rule);
  if ((spec.deviceNodes?.length ?? 0) > 0 && spec.rootfs === undefined) fail('deviceNodes need a rootfs');
  for (const node of spec.deviceNodes ?? []) r.add('device_node', node);
  if (spec.netnsFd !== undefined) {
    if (!Number.isInteger(spec.netnsFd) || spec.netnsFd < 3) fail('netnsFd must be an integer >= 3');
    if (ns.has('net')) fail('netnsFd joins a network namespace: not with the net namespace');
    r.add('netns_fd', spec.netnsFd);
  }
  if (spec.netWaitFd !== undefined) {
    if (!Number.isInteger(spec.netWaitFd) || spec.netWaitFd < 3) fail('netWaitFd must be an integer >= 3');
    if (!ns.has('net')) fail('netWaitFd needs the net namespace');
    r.add('net_wait_fd', spec.netWaitFd);
  }
  if ((spec.netAddress !== undefined || spec.netGateway !== undefined) && spec.netWaitFd === undefined) {
    fail('netAddress/netGateway need netWaitFd (eth0 is the veth tstop moves in)');
  }
  if (spec.netAddress !== undefined) r.add('net_addr', spec.netAddress);
  if (spec.netGateway !== undefined) r.add('net_gateway', spec.netGateway);
  if (spec.log) {
    r.add('log_path', checkAbsolute('log.path', spec.log.path));
    r.add('log_max_bytes', spec.log.maxBytes);
    r.add('log_max_files', spec.log.maxFiles);
  }
  if (spec.owner) {
    if (spec.log || spec.restart || spec.reportFd !== undefined) fail('owner excludes log, restart and reportFd');
    if (!isOpenJsonObject(spec.owner.stateJson)) fail('owner.stateJson: a JSON object without its closing brace');
    r.add('state_file', checkAbsolute('owner.stateFile', spec.owner.stateFile));
    r.add('state_json', spec.owner.stateJson);
    if (spec.owner.oomFile !== null) r.add('oom_file', checkAbsolute('owner.oomFile', spec.owner.oomFile));
    for (const f of spec.owner.remove) r.add('owner_remove', checkAbsolute('owner.remove', f));
    r.flag('auto_remove', spec.owner.autoRemove, false);
    r.flag('stdin_null', spec.owner.stdinNull, false);
  }
  if (spec.restart) {
    r.add('restart', spec.restart.policy);
    if (spec.restart.maxRetries > 0) {
      if (spec.restart.policy !== 'on-failure') fail('restart.maxRetries needs the on-failure policy');
      r.add('restart_max', spec.restart.maxRetries);
    }
    r.add('stop_flag', checkAbsolute('restart.stopFlag', spec.restart.stopFlag));
  }
}

/** `{...` that is a JSON object with one more `}` (the helper appends fields and the brace). */
function isOpenJsonObject(text: string): boolean {
  if (!text.startsWith('{"')) return false;
  try {
    const v: unknown = JSON.parse(`${text}}`);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** Encode a spec for the helper's fd 3. Throws SpecError on invalid input. */
export function serializeSpec(spec: LauncherSpec): Buffer {
  const r = new Records();
  r.add('mode', spec.mode);
  if (spec.mode === 'exec') {
    if (!Number.isInteger(spec.pid) || spec.pid < 1) fail('exec needs a positive target pid');
    r.add('pid', spec.pid);
  } else {
    addRun(r, spec);
  }
  addCommon(r, spec);
  r.list.push('end=1');
  return Buffer.from(`${r.list.join('\0')}\0`, 'utf8');
}

/** Decode the records (for tests and debugging); does not validate keys. */
export function parseSpecRecords(buf: Buffer): Array<[string, string]> {
  const text = buf.toString('utf8');
  if (!text.endsWith('\0')) fail('spec does not end with a NUL byte');
  return text
    .slice(0, -1)
    .split('\0')
    .map((rec): [string, string] => {
      const eq = rec.indexOf('=');
      if (eq <= 0) fail(`record ${JSON.stringify(rec)} is not key=value`);
      return [rec.slice(0, eq), rec.slice(eq + 1)];
    });
}
