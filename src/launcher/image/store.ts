// The image store: content-addressed layers shared between images, one
// record per image, one table of tags.
//
//   <store>/layers/<diff_id hex>/fs     the layer's tree, overlayfs whiteouts (a read-only lowerdir)
//   <store>/layers/<diff_id hex>/size   its content bytes
//   <store>/images/<image id hex>.json  ImageRecord (the id: sha256 of the image config, as docker's)
//   <store>/tags.json                   { "name:tag": "sha256:<id>" }
//   <store>/tmp/<pid>-<random>/          work in progress; renamed into place once verified
//   <store>/lock                        flock: load's commits and rmi's removals exclude each other
//
// Layers are keyed by diff_id (the sha256 of the uncompressed tar), the one
// digest docker-save archives and OCI layouts share, so a layer loaded from
// either is extracted once. A layer directory appears only by rename of a
// fully extracted and verified one, and leaves by rename into tmp/ first,
// so layers/ never shows half a layer.

import fs from 'node:fs';
import path from 'node:path';
import { lockExclusive } from '../../util/flock.js';
import { ImageError } from './errors.js';

export const DEFAULT_IMAGE_STORE = '/var/lib/tstop/images';

/** The parts of an image's config that `run --image` applies (OCI/docker "config" object). */
export interface ImageRunConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, unknown> | null;
}

export interface ImageRecord {
  /** "sha256:<hex>" of the config blob. */
  id: string;
  /** diff_id hexes, bottom layer first. */
  layers: string[];
  /** The config's "created", or null. */
  created: string | null;
  loaded: string;
  sizeBytes: number;
  architecture: string | null;
  os: string | null;
  config: ImageRunConfig;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** --image-store, else TSTOP_IMAGES, else /var/lib/tstop/images. */
export function imageStoreDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = flag ?? (env.TSTOP_IMAGES || DEFAULT_IMAGE_STORE);
  if (!path.isAbsolute(dir)) throw new ImageError(`the image store '${dir}' must be an absolute path`, 2);
  // The layer paths go into overlayfs's mount options, where these characters are separators.
  if (/[,:\\\s]/.test(dir))
    throw new ImageError(`the image store '${dir}' may not contain ',', ':', '\\' or spaces`, 2);
  return path.normalize(dir);
}

export class ImageStore {
  readonly layersDir: string;
  readonly imagesDir: string;
  readonly tmpDir: string;

  constructor(readonly dir: string) {
    this.layersDir = path.join(dir, 'layers');
    this.imagesDir = path.join(dir, 'images');
    this.tmpDir = path.join(dir, 'tmp');
  }

  /** Creates the store (mode 0700: layers keep setuid files) when missing. */
  init(): this {
    for (const d of [this.dir, this.layersDir, this.imagesDir, this.tmpDir]) {
      fs.mkdirSync(d, { recursive: true, mode: 0o700 });
      const st = fs.lstatSync(d);
      if (!st.isDirectory()) throw new ImageError(`${d}: not a directory`);
    }
    return this;
  }

  exists(): boolean {
    return fs.existsSync(this.imagesDir);
  }

  /** Runs fn holding the store's lock (flock: released by the kernel if tstop dies). */
  locked<T>(fn: () => T): T {
    const fd = fs.openSync(
      path.join(this.dir, 'lock'),
      fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
      0o600,
    );
    try {
      lockExclusive(fd);
      return fn();
    } finally {
      fs.closeSync(fd); // drops the lock
    }
  }

  /** A new private work directory under tmp/; work dirs of dead loads are removed first. */
  workDir(): string {
    for (const name of fs.readdirSync(this.tmpDir)) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !fs.existsSync(`/proc/${pid}`)) {
        fs.rmSync(path.join(this.tmpDir, name), { recursive: true, force: true });
      }
    }
    return fs.mkdtempSync(path.join(this.tmpDir, `${process.pid}-`));
  }

  layerDir(hex: string): string {
    if (!HEX64.test(hex)) throw new ImageError(`'${hex}' is not a sha256 digest`);
    return path.join(this.layersDir, hex);
  }

  /** The lowerdir of a layer. */
  layerFs(hex: string): string {
    return path.join(this.layerDir(hex), 'fs');
  }

  hasLayer(hex: string): boolean {
    return fs.existsSync(path.join(this.layerDir(hex), 'size'));
  }

  layerSize(hex: string): number {
    try {
      return Number(fs.readFileSync(path.join(this.layerDir(hex), 'size'), 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  /** Moves an extracted, verified layer (a dir holding fs/) into place; one already there wins. */
  commitLayer(hex: string, work: string, sizeBytes: number): void {
    fs.writeFileSync(path.join(work, 'size'), `${sizeBytes}\n`, { mode: 0o600 });
    fs.chmodSync(work, 0o700);
    try {
      fs.renameSync(work, this.layerDir(hex));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && this.hasLayer(hex)) {
        fs.rmSync(work, { recursive: true, force: true });
        return;
      }
      throw err;
    }
  }

  private imageFile(id: string): string {
    const hex = id.replace(/^sha256:/, '');
    if (!HEX64.test(hex)) throw new ImageError(`'${id}' is not an image id`);
    return path.join(this.imagesDir, `${hex}.json`);
  }

  private writeAtomic(file: string, text: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  /** Hides an image from resolveImage and readImage (rmi, before it looks for containers using it); true if it was there. */
  hideImage(id: string): boolean {
    try {
      fs.renameSync(this.imageFile(id), `${this.imageFile(id)}.removing`);
      return true;
    } catch {
      return false;
    }
  }

  unhideImage(id: string): void {
    fs.renameSync(`${this.imageFile(id)}.removing`, this.imageFile(id));
  }

  writeImage(record: ImageRecord): void {
    this.writeAtomic(this.imageFile(record.id), JSON.stringify(record, null, 1) + '\n');
  }

  readImage(id: string): ImageRecord | null {
    try {
      return JSON.parse(fs.readFileSync(this.imageFile(id), 'utf8')) as ImageRecord;
    } catch {
      return null;
    }
  }

  images(): ImageRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.imagesDir);
    } catch {
      return [];
    }
    return names
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .map((n) => this.readImage(`sha256:${n.slice(0, 64)}`))
      .filter((r): r is ImageRecord => r !== null);
  }

  tags(): Record<string, string> {
    try {
      const t = JSON.parse(fs.readFileSync(path.join(this.dir, 'tags.json'), 'utf8')) as unknown;
      return typeof t === 'object' && t !== null && !Array.isArray(t) ? (t as Record<string, string>) : {};
    } catch {
      return {};
    }
  }

  writeTags(tags: Record<string, string>): void {
    const sorted = Object.fromEntries(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)));
    this.writeAtomic(path.join(this.dir, 'tags.json'), JSON.stringify(sorted, null, 1) + '\n');
  }

  /** Removes an image's record and every layer no remaining image uses. Call under the lock. */
  removeImage(id: string): string[] {
    fs.rmSync(this.imageFile(id), { force: true });
    fs.rmSync(`${this.imageFile(id)}.removing`, { force: true });
    const used = new Set(this.images().flatMap((r) => r.layers));
    const removed: string[] = [];
    for (const hex of fs.readdirSync(this.layersDir)) {
      if (!HEX64.test(hex) || used.has(hex)) continue;
      const doomed = path.join(this.tmpDir, `${process.pid}-gc-${hex}`);
      fs.renameSync(this.layerDir(hex), doomed);
      fs.rmSync(doomed, { recursive: true, force: true });
      removed.push(hex);
    }
    return removed;
  }
}

/** A registry host in front of a name: has a dot or a port, or is localhost (docker's rule). */
const REGISTRY = /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+(?::\d+)?|localhost(?::\d+)?|[a-zA-Z0-9-]+:\d+)\//;

/** "name:tag" for NAME[:TAG] (a ':' after the last '/' starts the tag; latest by default). */
export function normalizeTag(ref: string): string {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const named = colon > slash ? ref : `${ref}:latest`;
  const at = named.lastIndexOf(':');
  const name = named.slice(0, at).replace(/^docker\.io\/(library\/)?/, '');
  const tag = named.slice(at + 1);
  if (!/^[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(name.replace(REGISTRY, 'r/'))) {
    throw new ImageError(`'${ref}' is not an image name (lower-case letters, digits, '.', '_', '-' and '/')`, 2);
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new ImageError(`'${ref}': '${tag}' is not a tag`, 2);
  return `${name}:${tag}`;
}

/** The image a reference names: NAME[:TAG], sha256:<id>, or a unique prefix of an id (4+ hex digits). */
export function resolveImage(store: ImageStore, ref: string): { record: ImageRecord; tag: string | null } {
  const tags = store.tags();
  const idPrefix = /^(sha256:)?([0-9a-f]{4,64})$/.exec(ref)?.[2];
  if (idPrefix !== undefined && (ref.startsWith('sha256:') || tags[normalizeTagOrNull(ref) ?? ''] === undefined)) {
    const matches = store.images().filter((r) => r.id.slice(7).startsWith(idPrefix));
    if (matches.length > 1) throw new ImageError(`'${ref}' matches ${matches.length} images: give more of the id`);
    if (matches.length === 1) return { record: matches[0], tag: null };
  }
  const tag = normalizeTag(ref);
  const id = tags[tag];
  const record = id === undefined ? null : store.readImage(id);
  if (!record) {
    throw new ImageError(
      `no image '${tag}' in ${store.dir} (tstop images lists them; there is no pull: docker save it elsewhere and tstop load -i it)`,
    );
  }
  return { record, tag };
}

function normalizeTagOrNull(ref: string): string | null {
  try {
    return normalizeTag(ref);
  } catch {
    return null;
  }
}

/** The tags of an image, sorted. */
export function tagsOf(store: ImageStore, id: string, tags = store.tags()): string[] {
  return Object.entries(tags)
    .filter(([, v]) => v === id)
    .map(([k]) => k)
    .sort();
}
