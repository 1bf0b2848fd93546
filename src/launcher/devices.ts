// Which devices a container may use, as docker's defaults: everything is
// denied, then runc's default allow-list (the safe character devices, ptys,
// and mknod of any node so images can be unpacked), plus `--device` and
// `--device-cgroup-rule`. On cgroup v1 tstop writes the rules into the
// container's own devices cgroup (devices.deny "a", then devices.allow);
// on v2 the helper attaches a BPF_CGROUP_DEVICE program built from the same
// rules (native/src/devices.c) before the workload exists. Either failing
// fails the launch (exit 125): never a run without the rules.

import fs from 'node:fs';
import path from 'node:path';
import { cgroupDir } from '../cgroupfs/create.js';
import type { CgroupMounts } from '../cgroupfs/mounts.js';
import { ExpectedError } from '../util/errors.js';
import { CgroupSetupError, errnoWords } from './cgroup.js';

/** A malformed --device / --device-cgroup-rule (exit 2, before anything exists). */
export class DeviceFlagError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** runc's default allowed devices (libcontainer/specconv AllowedDevices), as docker run applies them. */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  'c *:* m', // mknod of any character device (opening it is another matter)
  'b *:* m', // and of any block device
  'c 1:3 rwm', // /dev/null
  'c 1:5 rwm', // /dev/zero
  'c 1:7 rwm', // /dev/full
  'c 1:8 rwm', // /dev/random
  'c 1:9 rwm', // /dev/urandom
  'c 5:0 rwm', // /dev/tty
  'c 5:1 rwm', // /dev/console
  'c 5:2 rwm', // /dev/ptmx
  'c 136:* rwm', // /dev/pts/*
];

const RULE_RE = /^([abc]) (\*|\d{1,10}):(\*|\d{1,10}) ([rwm]{1,3})$/;

/** `c 1:3 rwm` (docker's --device-cgroup-rule syntax), normalised; DeviceFlagError if malformed. */
export function parseDeviceRule(value: string): string {
  const text = value.trim().replace(/\s+/g, ' ');
  const m = RULE_RE.exec(text);
  if (!m || new Set(m[4]).size !== m[4].length || [m[2], m[3]].some((n) => n !== '*' && Number(n) > 0xffffffff)) {
    throw new DeviceFlagError(
      `--device-cgroup-rule '${value}': expected TYPE MAJOR:MINOR ACCESS, e.g. 'c 1:3 rwm' (type a, b or c; * for any number; access of r, w, m)`,
    );
  }
  return text;
}

/** `--device HOST[:CONTAINER][:PERMISSIONS]`, as given. */
export interface DeviceRequest {
  hostPath: string;
  containerPath: string;
  access: string;
}

export function parseDeviceFlag(value: string): DeviceRequest {
  const parts = value.split(':');
  const bad = (why: string): DeviceFlagError =>
    new DeviceFlagError(
      `--device '${value}': ${why} (expected HOST[:CONTAINER][:PERMISSIONS], e.g. /dev/loop3:/dev/xvdc:rw)`,
    );
  if (parts.length > 3 || parts.some((p) => p === '')) throw bad('malformed');
  let access = 'rwm';
  if (parts.length > 1 && /^[rwm]{1,3}$/.test(parts[parts.length - 1])) access = parts.pop() as string;
  if (new Set(access).size !== access.length) throw bad('repeated permission');
  if (parts.length > 2) throw bad('malformed');
  const [hostPath, containerPath = hostPath] = parts;
  if (!path.isAbsolute(hostPath)) throw bad('the host path must be absolute');
  if (!containerPath.startsWith('/dev/') || containerPath.split('/').some((s) => s === '..' || s === '.')) {
    throw bad('the container path must be under /dev/, without . or ..');
  }
  return { hostPath: path.normalize(hostPath), containerPath: path.normalize(containerPath), access };
}

/** A --device with its node looked up on the host. */
export interface DeviceNode extends DeviceRequest {
  type: 'b' | 'c';
  major: number;
  minor: number;
  mode: number;
}

/** Linux's dev_t split (glibc's gnu_dev_major/minor). */
export function splitDevT(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = Number(((dev & 0xfff00n) >> 8n) | ((dev & 0xfffff00000000000n) >> 32n));
  const minor = Number((dev & 0xffn) | ((dev & 0xffffff00000n) >> 12n));
  return { major, minor };
}

/** Looks the host node up (following symlinks such as /dev/disk/by-id/...); refuses anything but a device. */
export function resolveDevice(req: DeviceRequest, err: (m: string) => Error): DeviceNode {
  let st: fs.Stats;
  try {
    st = fs.statSync(req.hostPath);
  } catch (e) {
    throw err(`--device ${req.hostPath}: ${errnoWords(e)}`);
  }
  const type = st.isBlockDevice() ? 'b' : st.isCharacterDevice() ? 'c' : null;
  if (type === null) throw err(`--device ${req.hostPath}: not a block or character device`);
  return { ...req, type, ...splitDevT(st.rdev), mode: st.mode & 0o7777 };
}

export function nodeRule(d: DeviceNode): string {
  return `${d.type} ${d.major}:${d.minor} ${d.access}`;
}

/** The spec's device_node value: TYPE:MAJ:MIN:MODE:PATH:HOSTPATH. */
export function nodeRecord(d: DeviceNode): string {
  if (d.containerPath.includes(':') || d.hostPath.includes(':')) {
    throw new DeviceFlagError(`--device ${d.hostPath}: paths may not contain ':'`);
  }
  return `${d.type}:${d.major}:${d.minor}:${d.mode.toString(8)}:${d.containerPath}:${d.hostPath}`;
}

/** A cgroup file we just created, opened without following a symlink, written once. */
/** One write(2) per value (v1 devices files take one rule per write), through one open file. */
function writeCgroupFile(dir: string, file: string, values: readonly string[]): void {
  const target = path.join(dir, file);
  let fd: number;
  try {
    fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    throw new CgroupSetupError(`device rules: cannot open ${target}: ${errnoWords(e)}`);
  }
  try {
    for (const value of values) {
      try {
        fs.writeSync(fd, value);
      } catch (e) {
        throw new CgroupSetupError(`device rules: writing '${value}' to ${target} failed: ${errnoWords(e)}`);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Applies the rules to the container's new cgroup. v1 (a devices hierarchy
 * is mounted): written here, returns null. Otherwise the cgroup2 directory
 * the helper attaches its BPF program to. No place for either: the launch
 * fails.
 */
export function applyDeviceRules(mounts: CgroupMounts, cgroupPath: string, rules: readonly string[]): string | null {
  const v1 = mounts.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes('devices'));
  if (v1) {
    const dir = cgroupDir(v1, cgroupPath);
    if (fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) {
      throw new CgroupSetupError(`device rules: ${dir} is not the container's cgroup directory`);
    }
    writeCgroupFile(dir, 'devices.deny', ['a']);
    writeCgroupFile(dir, 'devices.allow', rules);
    return null;
  }
  if (mounts.unified) return cgroupDir(mounts.unified, cgroupPath);
  throw new CgroupSetupError(
    'device rules: neither a v1 devices hierarchy nor cgroup2 is mounted, so access to host devices cannot be restricted',
  );
}
