// `tstop load -i FILE|DIR`: a docker save archive or an OCI image layout
// into the image store. Everything is written under the store's tmp/ first
// (the archive unpacked, each new layer extracted and its digests checked)
// and renamed into place only when the whole image is verified, under the
// store's lock; a refused archive leaves nothing behind.

import fs from 'node:fs';
import path from 'node:path';
import { readArchive, type ArchiveImage } from './archive.js';
import { ImageError } from './errors.js';
import { extractTar, type ExtractLimits } from './extract.js';
import { ImageStore, normalizeTag, type ImageRecord } from './store.js';

export interface LoadOptions {
  input: string;
  storeDir: string;
  warn?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

function limitFromEnv(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d{1,16}$/.test(v)) throw new ImageError(`${name}='${v}': expected a number of bytes`, 2);
  return Number(v);
}

export function loadLimits(env: NodeJS.ProcessEnv): { layer: ExtractLimits; archive: ExtractLimits } {
  return {
    layer: { maxBytes: limitFromEnv(env, 'TSTOP_IMAGE_MAX_LAYER_BYTES', 32 * 2 ** 30), maxEntries: 1_000_000 },
    archive: { maxBytes: limitFromEnv(env, 'TSTOP_IMAGE_MAX_ARCHIVE_BYTES', 64 * 2 ** 30), maxEntries: 100_000 },
  };
}

/** Loads every image of the input; returns docker's lines ("Loaded image: busybox:latest"). */
export async function loadImages(opts: LoadOptions): Promise<string[]> {
  const env = opts.env ?? process.env;
  if ((process.getuid?.() ?? 0) !== 0) {
    throw new ImageError(
      "tstop load needs root: layers keep their files' owners, and overlayfs whiteouts are device nodes",
    );
  }
  const limits = loadLimits(env);
  let st: fs.Stats;
  try {
    st = fs.statSync(opts.input);
  } catch {
    throw new ImageError(`${opts.input}: no such file or directory`);
  }
  if (!st.isFile() && !st.isDirectory()) throw new ImageError(`${opts.input}: not a file or a directory`);
  const store = new ImageStore(opts.storeDir).init();
  const work = store.workDir();
  try {
    let root = opts.input;
    if (st.isFile()) {
      root = path.join(work, 'archive');
      fs.mkdirSync(root, { mode: 0o700 });
      await extractTar(opts.input, root, { layer: false, what: opts.input }, limits.archive);
    }
    const images = readArchive(root, opts.input);
    const lines: string[] = [];
    for (const image of images) lines.push(...(await loadImage(store, image, work, opts, limits.layer)));
    return lines;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function loadImage(
  store: ImageStore,
  image: ArchiveImage,
  work: string,
  opts: LoadOptions,
  limits: ExtractLimits,
): Promise<string[]> {
  const tags = image.tags.map((t) => {
    try {
      return normalizeTag(t);
    } catch {
      throw new ImageError(`${opts.input}: the archive names the image '${t}', which is not NAME:TAG: refused`);
    }
  });
  const pending = new Map<string, { dir: string; sizeBytes: number }>();
  for (const layer of image.layers) {
    const hex = layer.diffIdHex;
    if (pending.has(hex) || store.hasLayer(hex)) continue; // shared: extracted once
    const dir = path.join(work, `layer-${hex}`);
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.mkdirSync(path.join(dir, 'fs'), { mode: 0o755 });
    const what = `layer sha256:${hex.slice(0, 12)} (${path.relative(path.dirname(layer.file), layer.file) || layer.file})`;
    const got = await extractTar(layer.file, path.join(dir, 'fs'), { layer: true, what, warn: opts.warn }, limits);
    if (layer.blobHex !== null && got.blobHex !== layer.blobHex) {
      throw new ImageError(
        `${what}: its sha256 is ${got.blobHex}, not the ${layer.blobHex} the archive names: refused`,
      );
    }
    if (got.tarHex !== hex) {
      throw new ImageError(
        `${what}: the tar's sha256 is ${got.tarHex}, not the diff_id sha256:${hex} of the image config: refused`,
      );
    }
    pending.set(hex, { dir, sizeBytes: got.sizeBytes });
  }
  const id = `sha256:${image.idHex}`;
  store.locked(() => {
    for (const [hex, p] of pending) store.commitLayer(hex, p.dir, p.sizeBytes);
    const missing = image.layers.find((l) => !store.hasLayer(l.diffIdHex));
    if (missing)
      throw new ImageError(
        `layer sha256:${missing.diffIdHex} was removed while loading (tstop rmi at the same time?): load again`,
      );
    const c = image.config;
    const record: ImageRecord = {
      id,
      layers: image.layers.map((l) => l.diffIdHex),
      created: typeof c.created === 'string' ? c.created : null,
      loaded: new Date().toISOString(),
      sizeBytes: [...new Set(image.layers.map((l) => l.diffIdHex))].reduce((s, h) => s + store.layerSize(h), 0),
      architecture: typeof c.architecture === 'string' ? c.architecture : null,
      os: typeof c.os === 'string' ? c.os : null,
      config: c.config ?? {},
    };
    store.writeImage(record);
    const table = store.tags();
    for (const t of tags) table[t] = id; // a tag moves to the new image, as docker's does
    store.writeTags(table);
  });
  return tags.length > 0 ? tags.map((t) => `Loaded image: ${t}`) : [`Loaded image ID: ${id}`];
}
