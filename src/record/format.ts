// The on-disk frame of the flight recorder's store: segment files of
// checksummed records. A segment starts with a 16-byte header; each record
// is a 25-byte header and a payload:
//
//   segment header: "TSTOPSG1" | intervalMs u32 | reserved u32
//   record header:  magic u32 | payloadBytes u32 | crc32 u32 | timestampMs f64 | kind u8 | keyOffset u32
//
// The CRC covers everything after itself (timestamp, kind, key offset,
// payload), so a flipped bit anywhere in a record is caught. The magic lets
// a reader find the next record after damaged bytes. Little-endian.

import zlib from 'node:zlib';

export const SEGMENT_MAGIC = Buffer.from('TSTOPSG1', 'latin1');
export const SEGMENT_HEADER_BYTES = 16;
export const RECORD_MAGIC = 0x31525354; // "TSR1" little-endian
const RECORD_MAGIC_BYTES = Buffer.from('TSR1', 'latin1');
export const RECORD_HEADER_BYTES = 25;
/** A payload larger than this is a damaged length field, not a sample. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export const KIND_KEYFRAME = 1;
export const KIND_DELTA = 2;
export type RecordKind = typeof KIND_KEYFRAME | typeof KIND_DELTA;

export function segmentHeader(intervalMs: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(b, 0);
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
  const out: SegmentScan = { intervalMs: 0, records: [], damage: [], tornTailAt: null };
  if (buf.length < SEGMENT_HEADER_BYTES) {
    out.tornTailAt = 0;
    return out;
  }
  let p = SEGMENT_HEADER_BYTES;
  if (!buf.subarray(0, 8).equals(SEGMENT_MAGIC)) {
    out.damage.push({ offset: 0, bytes: SEGMENT_HEADER_BYTES, why: 'segment header' });
  } else {
    out.intervalMs = buf.readUInt32LE(8);
  }
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
function recordAt(buf: Buffer, p: number): RecordRef | null {
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
