// One tar file (plain or gzip) streamed into a SafeTree, with the sha256 of
// the file as stored (the blob digest) and of the tar itself (docker's
// diff_id), and the limits that keep a hostile tar from filling the disk.

import crypto from 'node:crypto';
import fs from 'node:fs';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tarStream from 'tar-stream';
import { ImageError } from './errors.js';
import { SafeTree, type EntryData, type TreeOptions } from './tree.js';

export interface ExtractLimits {
  /** Uncompressed tar bytes. */
  maxBytes: number;
  maxEntries: number;
}

export interface Extracted {
  /** sha256 of the file as stored, hex. */
  blobHex: string;
  /** sha256 of the uncompressed tar (the diff_id), hex. */
  tarHex: string;
  sizeBytes: number;
}

/** Counts and hashes what passes, and stops the stream past maxBytes. */
class Meter extends Transform {
  readonly hash = crypto.createHash('sha256');
  bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      cb(
        new ImageError(
          `${this.what}: larger than ${this.maxBytes} bytes uncompressed: refused (TSTOP_IMAGE_MAX_LAYER_BYTES)`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

export type Compression = 'none' | 'gzip';

/** By the first bytes, not by a media type an archive could get wrong. */
export function compressionOf(file: string, what: string): Compression {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  let n: number;
  try {
    n = fs.readSync(fd, head, 0, 4, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    throw new ImageError(
      `${what} is zstd-compressed, which tstop cannot read on Node 20: save it with gzip or uncompressed layers`,
    );
  }
  return 'none';
}

/** Extracts `file` into the empty directory `dest`. Throws ImageError on anything refused; dest is then the caller's to remove. */
export async function extractTar(
  file: string,
  dest: string,
  tree: Omit<TreeOptions, 'maxEntries'>,
  limits: ExtractLimits,
): Promise<Extracted> {
  const compression = compressionOf(file, tree.what);
  const blobHash = crypto.createHash('sha256');
  const blobTap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      blobHash.update(chunk);
      cb(null, chunk);
    },
  });
  const meter = new Meter(limits.maxBytes, tree.what);
  const safe = new SafeTree(dest, { ...tree, maxEntries: limits.maxEntries });
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    safe.entry(header, stream as unknown as EntryData).then(
      () => next(),
      (err: unknown) => next(err as Error),
    );
  });
  const source = fs.createReadStream(file, { fd: fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW) });
  const gunzip = compression === 'gzip' ? zlib.createGunzip() : new PassThrough();
  try {
    await pipeline(source, blobTap, gunzip, meter, extract);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR')
      throw new ImageError(`${tree.what}: not valid gzip data (${e.message})`);
    if (/Unexpected end of data|Invalid tar header|checksum/i.test(e.message)) {
      throw new ImageError(`${tree.what}: not a complete tar (${e.message}): refused`);
    }
    if (e.code === 'ENOSPC') throw new ImageError(`${tree.what}: no space left on the image store's disk`);
    if (typeof e.code === 'string') throw new ImageError(`${tree.what}: ${e.message}`); // an entry the file system refused (ENAMETOOLONG...)
    throw err;
  }
  if (safe.entries === 0 && meter.bytes === 0) throw new ImageError(`${tree.what}: empty file, not a tar`);
  safe.finish();
  return { blobHex: blobHash.digest('hex'), tarHex: meter.hash.digest('hex'), sizeBytes: safe.sizeBytes };
}
