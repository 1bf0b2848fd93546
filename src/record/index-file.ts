// A v2 segment's index, `seg-<start>.tsi` beside `seg-<start>.tsr`: one
// fixed-size, checksummed entry per record, appended after the record, so a
// seek reads this small file and then only the bytes of the block it needs
// (its key frame up to the sample) instead of checking the whole segment.
//
//   header: "TSTOPIX1"
//   entry:  timestampMs f64 | offset u32 | recordBytes u32 | keyOffset u32 | kind u8 | 3 zero bytes | crc32 u32
//
// The index is derived data: records are still checked by their own CRC when
// read. An index that is missing, or whose entries do not check, is not
// trusted: readers scan the segment instead (one warning for a damaged one),
// and a writer rebuilds the newest segment's index at open.

import zlib from 'node:zlib';
import { RECORD_HEADER_BYTES, type RecordKind, type RecordRef, KIND_KEYFRAME, KIND_DELTA } from './format.js';

export const INDEX_MAGIC = Buffer.from('TSTOPIX1', 'latin1');
export const INDEX_ENTRY_BYTES = 28;

/** A record as the index locates it (its bytes not read yet). */
export interface IndexEntry {
  timestampMs: number;
  offset: number;
  /** Header and payload. */
  recordBytes: number;
  keyOffset: number;
  kind: RecordKind;
}

export function indexName(segmentName: string): string {
  return segmentName.replace(/\.tsr$/, '.tsi');
}

export function encodeIndexEntry(e: IndexEntry): Buffer {
  const b = Buffer.alloc(INDEX_ENTRY_BYTES);
  b.writeDoubleLE(e.timestampMs, 0);
  b.writeUInt32LE(e.offset, 8);
  b.writeUInt32LE(e.recordBytes, 12);
  b.writeUInt32LE(e.keyOffset, 16);
  b.writeUInt8(e.kind, 20);
  b.writeUInt32LE(zlib.crc32(b.subarray(0, 24)), 24);
  return b;
}

export function entryOf(r: RecordRef): IndexEntry {
  return {
    timestampMs: r.timestampMs,
    offset: r.offset,
    recordBytes: RECORD_HEADER_BYTES + r.payload.length,
    keyOffset: r.keyOffset,
    kind: r.kind,
  };
}

/** A whole index file for these records. */
export function encodeIndex(records: readonly RecordRef[]): Buffer {
  return Buffer.concat([INDEX_MAGIC, ...records.map((r) => encodeIndexEntry(entryOf(r)))]);
}

export type IndexRead = { entries: IndexEntry[] } | { damaged: string };

/**
 * The entries of an index file. An incomplete last entry (a write in flight)
 * ends it; a wrong magic, an entry failing its CRC or entries out of order
 * make it damaged.
 */
export function parseIndex(buf: Buffer): IndexRead {
  if (buf.length < INDEX_MAGIC.length || !buf.subarray(0, INDEX_MAGIC.length).equals(INDEX_MAGIC))
    return { damaged: 'index header' };
  const entries: IndexEntry[] = [];
  let end = 0;
  for (let p = INDEX_MAGIC.length; p + INDEX_ENTRY_BYTES <= buf.length; p += INDEX_ENTRY_BYTES) {
    if (zlib.crc32(buf.subarray(p, p + 24)) !== buf.readUInt32LE(p + 24))
      return { damaged: `index entry at offset ${p} fails its checksum` };
    const kind = buf.readUInt8(p + 20);
    const e: IndexEntry = {
      timestampMs: buf.readDoubleLE(p),
      offset: buf.readUInt32LE(p + 8),
      recordBytes: buf.readUInt32LE(p + 12),
      keyOffset: buf.readUInt32LE(p + 16),
      kind: kind === KIND_KEYFRAME ? KIND_KEYFRAME : KIND_DELTA,
    };
    if (e.offset < end || e.recordBytes < RECORD_HEADER_BYTES)
      return { damaged: `index entry at offset ${p} is out of order` };
    end = e.offset + e.recordBytes;
    entries.push(e);
  }
  return { entries };
}
