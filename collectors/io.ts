// Block IO per device: bytes and operations (v1 blkio.throttle.*, v2
// io.stat), throttle limits (v1 blkio.throttle.*_device, v2 io.max), weight.
//
// Kernel quirk worth knowing (seen on 6.18 here): on v1 the blkio.throttle
// counters only count IO on a device whose queue has blk-throttle active,
// i.e. some cgroup has a throttle rule for that device. Elsewhere they read 0.

import fs from 'node:fs';
import path from 'node:path';
import { cgroupFile, executionFile, settingFile, UNIFIED, type CgroupFileSpec } from '../src/cgroupfs/files.js';
import { equalsAscii, fields, forEachLine, indexOf, limitFromNumber, parseNumber } from '../src/cgroupfs/parse.js';
import type { CgroupSource } from '../src/cgroupfs/source.js';
import type { IoDeviceStats, IoLimit, IoStats } from '../src/model/types.js';
import type { CgroupCollector, DeviceNamer } from './api.js';

const V1 = {
  bytesRecursive: executionFile('blkio', 'blkio.throttle.io_service_bytes_recursive'),
  bytes: executionFile('blkio', 'blkio.throttle.io_service_bytes'),
  opsRecursive: executionFile('blkio', 'blkio.throttle.io_serviced_recursive'),
  ops: executionFile('blkio', 'blkio.throttle.io_serviced'),
  readBps: settingFile('blkio', 'blkio.throttle.read_bps_device'),
  writeBps: settingFile('blkio', 'blkio.throttle.write_bps_device'),
  readIops: settingFile('blkio', 'blkio.throttle.read_iops_device'),
  writeIops: settingFile('blkio', 'blkio.throttle.write_iops_device'),
  weight: settingFile('blkio', 'blkio.weight'),
  bfqWeight: settingFile('blkio', 'blkio.bfq.weight'),
};
const V2 = {
  stat: cgroupFile(UNIFIED, 'io.stat'),
  max: settingFile(UNIFIED, 'io.max'),
  weight: settingFile(UNIFIED, 'io.weight'),
  bfqWeight: settingFile(UNIFIED, 'io.bfq.weight'),
};

const V1_THROTTLES: [CgroupFileSpec, 'readBps' | 'writeBps' | 'readIops' | 'writeIops'][] = [
  [V1.readBps, 'readBps'],
  [V1.writeBps, 'writeBps'],
  [V1.readIops, 'readIops'],
  [V1.writeIops, 'writeIops'],
];

export type { DeviceNamer } from './api.js';

/** Kernel names of block devices from <root>/sys/dev/block/MAJ:MIN (a link to the device), cached. */
export function blockDeviceNamer(root: string): DeviceNamer {
  const names = new Map<number, string | null>();
  return (major, minor) => {
    const key = major * 1_048_576 + minor;
    let name = names.get(key);
    if (name === undefined) {
      try {
        name = path.basename(fs.readlinkSync(path.join(root, 'sys/dev/block', `${major}:${minor}`)));
      } catch {
        name = null;
      }
      names.set(key, name);
    }
    return name;
  };
}

const scratch: number[] = new Array(32).fill(0);
/** The device of the line being parsed (parsers run one at a time). */
const dev = { major: 0, minor: 0 };

/** Splits "MAJ:MIN" in [s, e); returns false if malformed. */
function parseDevice(buf: Uint8Array, s: number, e: number, out: { major: number; minor: number }): boolean {
  const colon = indexOf(buf, 0x3a, s, e);
  if (colon >= e) return false;
  out.major = parseNumber(buf, s, colon);
  out.minor = parseNumber(buf, colon + 1, e);
  return !Number.isNaN(out.major) && !Number.isNaN(out.minor);
}

/** A device's entry before any of its counters is read (rates unknown). */
export function blankIoDevice(major: number, minor: number, device: string | null): IoDeviceStats {
  return {
    major,
    minor,
    device,
    readBytes: 0,
    writeBytes: 0,
    readOps: 0,
    writeOps: 0,
    readBytesPerSecond: null,
    writeBytesPerSecond: null,
    readOpsPerSecond: null,
    writeOpsPerSecond: null,
  };
}

function deviceEntry(list: IoDeviceStats[], major: number, minor: number, namer: DeviceNamer): IoDeviceStats {
  for (const d of list) if (d.major === major && d.minor === minor) return d;
  const d = blankIoDevice(major, minor, namer(major, minor));
  list.push(d);
  return d;
}

/**
 * Pure: v1 blkio "MAJ:MIN Read N" lines (the final "Total N" line is
 * skipped) added into list as bytes (kind "bytes") or operations ("ops").
 */
export function parseBlkioV1(
  buf: Uint8Array,
  len: number,
  kind: 'bytes' | 'ops',
  list: IoDeviceStats[],
  namer: DeviceNamer,
  start = 0,
): void {
  // Plain loops, no callback: this runs for every cgroup that ran, every tick.
  for (let s = start; s < len;) {
    const e = indexOf(buf, 0x0a, s, len);
    if (e > s && fields(buf, s, e, scratch) === 3 && parseDevice(buf, scratch[0], scratch[1], dev)) {
      const isRead = equalsAscii(buf, scratch[2], scratch[3], 'Read');
      const v = parseNumber(buf, scratch[4], scratch[5]);
      if ((isRead || equalsAscii(buf, scratch[2], scratch[3], 'Write')) && !Number.isNaN(v)) {
        const d = deviceEntry(list, dev.major, dev.minor, namer);
        if (kind === 'bytes') {
          if (isRead) d.readBytes = v;
          else d.writeBytes = v;
        } else if (isRead) d.readOps = v;
        else d.writeOps = v;
      }
    }
    s = e + 1;
  }
}

/**
 * The v2 per-device keyed format (io.stat, io.max): for each
 * "MAJ:MIN key=value key=value" line, onDevice(major, minor) gives the entry
 * and onField(entry, keyStart, eq, valueEnd) reads one key=value of it.
 */
function forEachDeviceField<T>(
  buf: Uint8Array,
  len: number,
  start: number,
  onDevice: (major: number, minor: number) => T,
  onField: (entry: T, keyStart: number, eq: number, valueEnd: number) => void,
): void {
  forEachLine(
    buf,
    len,
    (s, e) => {
      const n = fields(buf, s, e, scratch);
      if (n < 2 || !parseDevice(buf, scratch[0], scratch[1], dev)) return;
      const entry = onDevice(dev.major, dev.minor);
      for (let i = 1; i < n; i++) {
        const fs = scratch[i * 2];
        const fe = scratch[i * 2 + 1];
        onField(entry, fs, indexOf(buf, 0x3d, fs, fe), fe);
      }
    },
    start,
  );
}

/** Pure: v2 io.stat ("MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"). */
export function parseIoStatV2(
  buf: Uint8Array,
  len: number,
  list: IoDeviceStats[],
  namer: DeviceNamer,
  start = 0,
): void {
  for (let s = start; s < len;) {
    const e = indexOf(buf, 0x0a, s, len);
    const n = e > s ? fields(buf, s, e, scratch) : 0;
    if (n >= 2 && parseDevice(buf, scratch[0], scratch[1], dev)) {
      const d = deviceEntry(list, dev.major, dev.minor, namer);
      for (let i = 1; i < n; i++) {
        const fs = scratch[i * 2];
        const fe = scratch[i * 2 + 1];
        const eq = indexOf(buf, 0x3d, fs, fe);
        const v = parseNumber(buf, eq + 1, fe);
        if (Number.isNaN(v)) continue;
        if (equalsAscii(buf, fs, eq, 'rbytes')) d.readBytes = v;
        else if (equalsAscii(buf, fs, eq, 'wbytes')) d.writeBytes = v;
        else if (equalsAscii(buf, fs, eq, 'rios')) d.readOps = v;
        else if (equalsAscii(buf, fs, eq, 'wios')) d.writeOps = v;
      }
    }
    s = e + 1;
  }
}

function limitEntry(list: IoLimit[], major: number, minor: number, namer: DeviceNamer): IoLimit {
  for (const l of list) if (l.major === major && l.minor === minor) return l;
  const l: IoLimit = {
    major,
    minor,
    device: namer(major, minor),
    readBps: null,
    writeBps: null,
    readIops: null,
    writeIops: null,
  };
  list.push(l);
  return l;
}

type LimitKey = 'readBps' | 'writeBps' | 'readIops' | 'writeIops';

/** Pure: a v1 blkio.throttle.*_device file ("MAJ:MIN value" per line). */
export function parseThrottleV1(
  buf: Uint8Array,
  len: number,
  key: LimitKey,
  list: IoLimit[],
  namer: DeviceNamer,
  start = 0,
): void {
  forEachLine(
    buf,
    len,
    (s, e) => {
      if (fields(buf, s, e, scratch) !== 2 || !parseDevice(buf, scratch[0], scratch[1], dev)) return;
      limitEntry(list, dev.major, dev.minor, namer)[key] = limitFromNumber(parseNumber(buf, scratch[2], scratch[3]));
    },
    start,
  );
}

const IO_MAX_KEYS: [string, LimitKey][] = [
  ['rbps', 'readBps'],
  ['wbps', 'writeBps'],
  ['riops', 'readIops'],
  ['wiops', 'writeIops'],
];

/** Pure: v2 io.max ("MAJ:MIN rbps=N wbps=max riops=max wiops=max"). */
export function parseIoMaxV2(buf: Uint8Array, len: number, list: IoLimit[], namer: DeviceNamer, start = 0): void {
  forEachDeviceField(
    buf,
    len,
    start,
    (major, minor) => limitEntry(list, major, minor, namer),
    (l, fs, eq, fe) => {
      for (const [word, key] of IO_MAX_KEYS) {
        if (equalsAscii(buf, fs, eq, word)) {
          l[key] = equalsAscii(buf, eq + 1, fe, 'max') ? null : limitFromNumber(parseNumber(buf, eq + 1, fe));
        }
      }
    },
  );
}

/** Pure: the "default N" line of io.weight / io.bfq.weight, or a bare number (blkio.weight). */
export function parseWeight(buf: Uint8Array, len: number, start = 0): number | null {
  let result: number | null = null;
  forEachLine(
    buf,
    len,
    (s, e) => {
      if (result !== null) return;
      const n = fields(buf, s, e, scratch);
      if (n === 1) result = parseNumber(buf, scratch[0], scratch[1]);
      else if (n === 2 && equalsAscii(buf, scratch[0], scratch[1], 'default'))
        result = parseNumber(buf, scratch[2], scratch[3]);
    },
    start,
  );
  return result !== null && Number.isNaN(result) ? null : result;
}

/** parseWeight with NaN for a file without a weight in it (src.setting keeps null for "no such file"). */
function weightOrNaN(buf: Buffer, start: number, end: number): number {
  return parseWeight(buf, end, start) ?? NaN;
}

function readWeight(src: CgroupSource, primary: CgroupFileSpec, fallback: CgroupFileSpec): number | null {
  const w = src.setting(primary, weightOrNaN) ?? src.setting(fallback, weightOrNaN);
  return w === null || Number.isNaN(w) ? null : w;
}

/** Shared empty lists: a cgroup without io keeps no new arrays from tick to tick (never pushed to). */
const NO_DEVICES: IoDeviceStats[] = [];
const NO_LIMITS: IoLimit[] = [];

/** A throttle file's or io.max's rules, parsed once per distinct content (src.setting). */
function v1Throttle(key: LimitKey): (buf: Buffer, start: number, end: number) => IoLimit[] {
  return (buf, start, end) => {
    const list: IoLimit[] = [];
    parseThrottleV1(buf, end, key, list, () => null, start);
    return list.length > 0 ? list : NO_LIMITS;
  };
}
const V1_THROTTLE_PARSERS = V1_THROTTLES.map(([file, key]) => ({ file, key, parse: v1Throttle(key) }));

function ioMaxRules(buf: Buffer, start: number, end: number): IoLimit[] {
  const list: IoLimit[] = [];
  parseIoMaxV2(buf, end, list, () => null, start);
  return list.length > 0 ? list : NO_LIMITS;
}

/** The throttle limits of the cgroup, named; NO_LIMITS (no allocation) when it has none. */
function readLimits(src: CgroupSource, namer: DeviceNamer): IoLimit[] {
  if (src.isV2('io')) return named(src.setting(V2.max, ioMaxRules), NO_LIMITS, null, namer);
  let limits = NO_LIMITS;
  for (const t of V1_THROTTLE_PARSERS) limits = named(src.setting(t.file, t.parse), limits, t.key, namer);
  return limits;
}

const LIMIT_KEYS: readonly LimitKey[] = ['readBps', 'writeBps', 'readIops', 'writeIops'];

/** Adds parsed rules (their `only` key, or all four) into limits, named; a new list at the first rule. */
function named(rules: IoLimit[] | null, limits: IoLimit[], only: LimitKey | null, namer: DeviceNamer): IoLimit[] {
  if (rules === null) return limits;
  for (const r of rules) {
    if (limits === NO_LIMITS) limits = [];
    const l = limitEntry(limits, r.major, r.minor, namer);
    for (const key of LIMIT_KEYS) if ((only === null || key === only) && r[key] !== null) l[key] = r[key];
  }
  return limits;
}

/**
 * The previous tick's object when nothing in it would differ: the same
 * counters, limits and weight, and rates that are already 0 (the rates of
 * unchanged counters). Snapshots are read-only, so an idle cgroup's io is not
 * a new object each tick (a carried-over object keeps its rates: model/rates.ts).
 */
function unchangedOr(io: IoStats, before: IoStats | null | undefined): IoStats {
  if (!before || before.weight !== io.weight || before.readBytesPerSecond !== 0 || before.writeBytesPerSecond !== 0)
    return io;
  if (before.devices.length !== io.devices.length || !sameLimits(before.limits, io.limits)) return io;
  for (let i = 0; i < io.devices.length; i++) {
    const a = io.devices[i];
    const b = before.devices[i];
    if (a.major !== b.major || a.minor !== b.minor || a.device !== b.device) return io;
    if (a.readBytes !== b.readBytes || a.writeBytes !== b.writeBytes) return io;
    if (a.readOps !== b.readOps || a.writeOps !== b.writeOps) return io;
    if (b.readBytesPerSecond !== 0 || b.writeBytesPerSecond !== 0) return io;
    if (b.readOpsPerSecond !== 0 || b.writeOpsPerSecond !== 0) return io;
  }
  return before;
}

function sameLimits(a: IoLimit[], b: IoLimit[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.major !== y.major || x.minor !== y.minor || x.device !== y.device) return false;
    if (x.readBps !== y.readBps || x.writeBps !== y.writeBps) return false;
    if (x.readIops !== y.readIops || x.writeIops !== y.writeIops) return false;
  }
  return true;
}

export function collectIo(src: CgroupSource, namer: DeviceNamer, before: IoStats | null = null): IoStats | null {
  const devices: IoDeviceStats[] = [];
  if (src.isV2('io')) {
    const n = src.read(V2.stat);
    if (n < 0) return null;
    parseIoStatV2(src.buf, src.end, devices, namer, src.start);
    return settled(devices, readLimits(src, namer), readWeight(src, V2.weight, V2.bfqWeight), before);
  }
  if (!src.has(V1.bytes)) return null;
  let n = src.read(V1.bytesRecursive);
  if (n < 0) n = src.read(V1.bytes);
  if (n >= 0) parseBlkioV1(src.buf, src.end, 'bytes', devices, namer, src.start);
  n = src.read(V1.opsRecursive);
  if (n < 0) n = src.read(V1.ops);
  if (n >= 0) parseBlkioV1(src.buf, src.end, 'ops', devices, namer, src.start);
  return settled(devices, readLimits(src, namer), readWeight(src, V1.weight, V1.bfqWeight), before);
}

function settled(devices: IoDeviceStats[], limits: IoLimit[], weight: number | null, before: IoStats | null): IoStats {
  const io: IoStats = {
    devices: devices.length > 0 ? devices : NO_DEVICES,
    limits,
    weight,
    readBytesPerSecond: null,
    writeBytesPerSecond: null,
  };
  return unchangedOr(io, before);
}

export const ioCollector: CgroupCollector = {
  name: 'io',
  fields: ['io'],
  collect(src, context, out) {
    out.io = collectIo(src, context.deviceName, context.previous?.io);
  },
};
