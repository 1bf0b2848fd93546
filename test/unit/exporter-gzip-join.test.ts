// gzip-join.ts: separately deflated pieces joined into one gzip member that
// any decoder reads whole, with the CRC-32 combined from the pieces'.

import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Combine, deflatePiece, gzipJoin, gzipParts } from '../../src/exporter/gzip-join.js';

describe('gzip join', () => {
  it('decodes to the pieces one after the other, as one member, for any split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 9 }),
        (parts, level) => {
          const texts = parts.map((p) => Buffer.from(p));
          const joined = gzipJoin(texts.map((t) => deflatePiece(t, level)));
          expect(zlib.gunzipSync(joined).equals(Buffer.concat(texts))).toBe(true);
          // One member: nothing after the first member's trailer (curl reads only the first).
          const inflate = zlib.inflateRawSync(joined.subarray(10, joined.length - 8));
          expect(inflate.length).toBe(Buffer.concat(texts).length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the same stream as parts: the pieces own buffers between header and trailer, nothing copied', () => {
    const texts = ['# HELP a x\na 1\n', '', 'b{id="/"} 2\n'.repeat(500)].map((t) => Buffer.from(t));
    const pieces = texts.map((t) => deflatePiece(t, 1));
    const { parts, length } = gzipParts(pieces);
    expect(parts.slice(1, 1 + pieces.length)).toEqual(pieces.map((p) => p.deflated));
    pieces.forEach((p, i) => expect(parts[1 + i]).toBe(p.deflated)); // the same buffers, not copies
    expect(length).toBe(parts.reduce((n, b) => n + b.length, 0));
    expect(Buffer.concat(parts).equals(gzipJoin(pieces))).toBe(true);
    expect(zlib.gunzipSync(Buffer.concat(parts)).equals(Buffer.concat(texts))).toBe(true);
  });

  it("keeps each piece in a buffer of its own size, not a view of zlib's 16 KB chunk", () => {
    for (const size of [10, 3000, 100_000]) {
      const text = Buffer.from(
        Array.from({ length: size }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join(''),
      );
      const piece = deflatePiece(text, 1);
      expect(piece.deflated.buffer.byteLength).toBe(piece.deflated.length);
      expect(zlib.inflateRawSync(piece.deflated, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(text)).toBe(true);
    }
  });

  it('combines CRC-32s as zlib does, and its table CRC equals zlib.crc32', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 2000 }), (a, b) => {
        const A = Buffer.from(a);
        const B = Buffer.from(b);
        expect(crc32Combine(crc32(A), crc32(B), B.length)).toBe(crc32(Buffer.concat([A, B])));
        expect(crc32(A, null)).toBe(zlib.crc32(A));
      }),
    );
    expect(crc32(Buffer.from('123456789'), null)).toBe(0xcbf43926); // the standard check value
  });
});
