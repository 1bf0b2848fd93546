// One gzip stream from separately compressed pieces, so the render cache
// compresses only the families that changed. Each piece is raw deflate data
// ended by a sync flush (byte-aligned, not final), which a decoder reads as
// one deflate stream when the pieces are put one after the other. The gzip
// header, a final empty block, and the trailer (CRC-32 of the whole text,
// combined from the pieces' CRCs, and its length) make it one gzip member
// (RFC 1952), which every decoder reads whole. Separate gzip members would
// be valid too, but curl --compressed (7.88) and some browsers stop after the first.

import zlib from 'node:zlib';

/** A compressed piece of text: its raw deflate data (sync-flushed), the text's CRC-32 and length. */
export interface DeflatePiece {
  deflated: Buffer;
  crc: number;
  length: number;
}

/** gzip header: magic, deflate, no flags, no mtime, no extra flags, OS unknown. */
const HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
/** A final block with fixed Huffman codes and only the end-of-block code. */
const FINAL_EMPTY_BLOCK = Buffer.from([0x03, 0x00]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const nativeCrc32 = (zlib as { crc32?: (d: Buffer) => number }).crc32;

/** CRC-32 (gzip's): zlib.crc32 where Node has it (20.15 and later), else by table. */
export function crc32(data: Buffer, native: ((d: Buffer) => number) | null = nativeCrc32 ?? null): number {
  if (native) return native(data) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const POLY = 0xedb88320;

/** a * b modulo the CRC polynomial (bit-reversed, as CRC-32 keeps it); zlib's multmodp. */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0..31. */
const X2N = (() => {
  const table = new Uint32Array(32);
  let p = 0x40000000; // x^1
  table[0] = p;
  for (let k = 1; k < 32; k++) table[k] = p = multModP(p, p);
  return table;
})();

/** x^(n * 2^k) modulo the polynomial; zlib's x2nmodp. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  for (; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) p = multModP(X2N[k & 31], p);
  return p;
}

/** The CRC-32 of A followed by B from crc(A), crc(B) and B's length (zlib's crc32_combine). */
export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  return (multModP(x2nModP(length2, 3), crc1 >>> 0) ^ crc2) >>> 0;
}

/**
 * A buffer of its own length: zlib's sync calls return a view of a 16 KB
 * chunk, and the render cache keeps one piece per family (~1 MB at 1,000
 * cgroups for ~120 KB of compressed text).
 */
function exactSize(b: Buffer): Buffer {
  if (b.buffer.byteLength === b.length) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}

/** Compresses a piece of text for gzipJoin. */
export function deflatePiece(text: Buffer, level: number): DeflatePiece {
  return {
    deflated: exactSize(zlib.deflateRawSync(text, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH })),
    crc: crc32(text),
    length: text.length,
  };
}

/** A gzip stream as the buffers that make it up, in order, and its length in bytes. */
export interface GzipParts {
  parts: readonly Buffer[];
  length: number;
}

/**
 * The pieces as one gzip stream of their texts one after the other, not
 * copied into one buffer: the parts are the pieces' own buffers between the
 * header and the trailer. A server writes them in turn (one writev): no
 * buffer of the whole body per scrape (~120 KB at 1,000 cgroups), which would
 * live into the old generation and wait there for a full GC.
 */
export function gzipParts(pieces: readonly DeflatePiece[]): GzipParts {
  let crc = 0;
  let length = 0;
  let bytes = HEADER.length + FINAL_EMPTY_BLOCK.length + 8;
  const parts: Buffer[] = [HEADER];
  for (const p of pieces) {
    crc = crc32Combine(crc, p.crc, p.length);
    length += p.length;
    bytes += p.deflated.length;
    parts.push(p.deflated);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  parts.push(FINAL_EMPTY_BLOCK, trailer);
  return { parts, length: bytes };
}

/** A gzip stream's parts copied into one buffer. */
export function joinedGzip(gzip: GzipParts): Buffer {
  return Buffer.concat(gzip.parts, gzip.length);
}

/** The pieces as one gzip stream of their texts one after the other, in one buffer. */
export function gzipJoin(pieces: readonly DeflatePiece[]): Buffer {
  return joinedGzip(gzipParts(pieces));
}
