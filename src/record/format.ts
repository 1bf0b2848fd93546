// The on-disk frame of the flight recorder's store: segment files of
// checksummed records. A segment starts with a 16-byte header; each record
// is a 25-byte header and a payload:
//
//   segment header: "TSTOPSG3" | intervalMs u32 | reserved u32   ("TSTOPSG1": the v1 payloads of codec.ts;
//                   "TSTOPSG2": column payloads with null rates in templates, read as v3)
//   record header:  magic u32 | payloadBytes u32 | crc32 u32 | timestampMs f64 | kind u8 | keyOffset u32
//
// The CRC covers everything after itself (timestamp, kind, key offset,
// payload), so a flipped bit anywhere in a record is caught. The magic lets
// a reader find the next record after damaged bytes. Little-endian.

import zlib from 'node:zlib';

/** v1 segments (key-frame-relative JSON diffs, codec.ts): still read, no longer written. */
export const SEGMENT_MAGIC_V1 = Buffer.from('TSTOPSG1', 'latin1');
/** v2 segments (column payloads, a null rate in the template): still read, no longer written. */
export const SEGMENT_MAGIC_V2 = Buffer.from('TSTOPSG2', 'latin1');
/**
 * v3 segments (column payloads against the previous sample, columns.ts;
 * every rate a number slot), with an index file beside them. Read as v2 is.
 */
export const SEGMENT_MAGIC = Buffer.from('TSTOPSG3', 'latin1');
/** 2 stands for the column payloads of both v2 and v3 segments: one reader reads both. */
export type SegmentVersion = 1 | 2;
export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_MAGIC = 0x31525354; // "TSR1" little-endian
const RECORD_MAGIC_BYTES = Buffer.from('TSR1', 'latin1');
export const RECORD_HEADER_BYTES = 25;
/** A payload larger than this is a damaged length field, not a sample. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export const KIND_KEYFRAME = 1;
export const KIND_DELTA = 2;
export type RecordKind = typeof KIND_KEYFRAME | typeof KIND_DELTA;

export function segmentHeader(intervalMs: number, version: SegmentVersion = 2): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  (version === 1 ? SEGMENT_MAGIC_V1 : SEGMENT_MAGIC).copy(b, 0);
  b.writeUInt32LE(Math.min(intervalMs, 0xffffffff), 8);
  return b;
}

export function encodeRecord(timestampMs: number, kind: RecordKind, keyOffset: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  b.writeUInt32LE(RECORD_MAGIC, 0);
  b.writeUInt32LE(payload.length, 4);
  b.writeDoubleLE(timestampMs, 12);
  b.writeUInt8(kind, 20);
  b.writeUInt32LE(keyOffset, 21);
  payload.copy(b, RECORD_HEADER_BYTES);
  b.writeUInt32LE(zlib.crc32(b.subarray(12)), 8);
  return b;
}

export interface RecordRef {
  /** Byte offset of the record header in its segment. */
  offset: number;
  timestampMs: number;
  kind: RecordKind;
  /** Offset of the key frame a delta is relative to (a key frame: its own offset). */
  keyOffset: number;
  payload: Buffer;
}

export interface Damage {
  offset: number;
  bytes: number;
  why: string;
}

export interface SegmentScan {
  intervalMs: number;
  /** From the header's magic; 2 when the header is damaged (the writer's version). */
  version: SegmentVersion;
  records: RecordRef[];
  /** Damaged byte ranges found between good records (or before the end of a sealed segment). */
  damage: Damage[];
  /** Where an incomplete last record starts (a write cut short), or null. */
  tornTailAt: number | null;
}

/**
 * Every intact record of a segment, in file order. Never throws on bad
 * bytes: a record whose checksum or frame is wrong is skipped up to the next
 * record magic and reported in `damage`; an incomplete record at the very
 * end is `tornTailAt`.
 */
export function scanSegment(buf: Buffer): SegmentScan {
  if (buf.length < SEGMENT_HEADER_BYTES) return { intervalMs: 0, version: 2, records: [], damage: [], tornTailAt: 0 };
  const out = scanRecords(buf, SEGMENT_HEADER_BYTES);
  const head = buf.subarray(0, 8);
  const version = head.equals(SEGMENT_MAGIC_V1) ? 1 : 2;
  const headerOk = version === 1 || head.equals(SEGMENT_MAGIC) || head.equals(SEGMENT_MAGIC_V2);
  if (!headerOk) out.damage.unshift({ offset: 0, bytes: SEGMENT_HEADER_BYTES, why: 'segment header' });
  return { intervalMs: headerOk ? buf.readUInt32LE(8) : 0, version, ...out };
}

/** The version and interval of a segment header, or null when it is not one. */
export function readSegmentHeader(buf: Buffer): { version: SegmentVersion; intervalMs: number } | null {
  if (buf.length < SEGMENT_HEADER_BYTES) return null;
  const head = buf.subarray(0, 8);
  if (head.equals(SEGMENT_MAGIC) || head.equals(SEGMENT_MAGIC_V2))
    return { version: 2, intervalMs: buf.readUInt32LE(8) };
  if (head.equals(SEGMENT_MAGIC_V1)) return { version: 1, intervalMs: buf.readUInt32LE(8) };
  return null;
}

/**
 * The intact records of buf from `start` on (offsets are positions in buf).
 * Never throws: see scanSegment.
 */
export function scanRecords(buf: Buffer, start: number): Omit<SegmentScan, 'intervalMs' | 'version'> {
  const out: Omit<SegmentScan, 'intervalMs' | 'version'> = { records: [], damage: [], tornTailAt: null };
  let p = start;
  while (p < buf.length) {
    const record = recordAt(buf, p);
    if (record) {
      out.records.push(record);
      p = record.offset + RECORD_HEADER_BYTES + record.payload.length;
      continue;
    }
    // Bad bytes here: resume at the next intact record.
    const next = nextIntactRecord(buf, p + 1);
    if (next < 0 && looksCutShort(buf, p)) {
      out.tornTailAt = p;
      return out;
    }
    const stop = next < 0 ? buf.length : next;
    out.damage.push({ offset: p, bytes: stop - p, why: whyBad(buf, p) });
    p = stop;
  }
  return out;
}

/** The intact record at p, or null. */
export function recordAt(buf: Buffer, p: number): RecordRef | null {
  if (buf.length - p < RECORD_HEADER_BYTES || buf.readUInt32LE(p) !== RECORD_MAGIC) return null;
  const payloadBytes = buf.readUInt32LE(p + 4);
  const end = p + RECORD_HEADER_BYTES + payloadBytes;
  if (payloadBytes > MAX_PAYLOAD_BYTES || end > buf.length) return null;
  if (zlib.crc32(buf.subarray(p + 12, end)) !== buf.readUInt32LE(p + 8)) return null;
  const kind = buf.readUInt8(p + 20);
  return {
    offset: p,
    timestampMs: buf.readDoubleLE(p + 12),
    kind: kind === KIND_KEYFRAME ? KIND_KEYFRAME : KIND_DELTA,
    keyOffset: buf.readUInt32LE(p + 21),
    payload: buf.subarray(p + RECORD_HEADER_BYTES, end),
  };
}

function nextIntactRecord(buf: Buffer, from: number): number {
  for (let at = buf.indexOf(RECORD_MAGIC_BYTES, from); at >= 0; at = buf.indexOf(RECORD_MAGIC_BYTES, at + 1)) {
    if (recordAt(buf, at)) return at;
  }
  return -1;
}

/** What is at p is the start of a record whose write was cut short: a header prefix, or a frame running past the end. */
function looksCutShort(buf: Buffer, p: number): boolean {
  const remaining = buf.length - p;
  if (remaining < RECORD_HEADER_BYTES) {
    const n = Math.min(4, remaining);
    return buf.subarray(p, p + n).equals(RECORD_MAGIC_BYTES.subarray(0, n));
  }
  if (buf.readUInt32LE(p) !== RECORD_MAGIC) return false;
  const payloadBytes = buf.readUInt32LE(p + 4);
  return payloadBytes <= MAX_PAYLOAD_BYTES && p + RECORD_HEADER_BYTES + payloadBytes > buf.length;
}

function whyBad(buf: Buffer, p: number): string {
  if (buf.length - p < RECORD_HEADER_BYTES || buf.readUInt32LE(p) !== RECORD_MAGIC) return 'no record frame';
  const end = p + RECORD_HEADER_BYTES + buf.readUInt32LE(p + 4);
  return end > buf.length ? 'length runs past the end' : 'checksum mismatch';
}

const SEGMENT_NAME_RE = /^seg-(\d{13})\.tsr$/;

/** Segment files are named for their first sample's time (epoch ms, 13 digits): name order is time order. */
export function segmentName(startMs: number): string {
  return `seg-${String(Math.max(0, Math.floor(startMs))).padStart(13, '0')}.tsr`;
}

export interface SegmentFile {
  name: string;
  startMs: number;
}

/** The store's segment files, oldest first; other files are ignored. */
export function listSegments(dir: string, readdir: (dir: string) => string[]): SegmentFile[] {
  const out: SegmentFile[] = [];
  for (const name of readdir(dir)) {
    const m = SEGMENT_NAME_RE.exec(name);
    if (m) out.push({ name, startMs: Number(m[1]) });
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}
