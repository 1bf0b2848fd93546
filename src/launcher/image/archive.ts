// Reading the images out of an unpacked archive directory: a `docker save`
// (manifest.json: the legacy layout with <id>/layer.tar and <id>.json, and
// docker 25+'s with blobs/sha256/<hex>) or an OCI image layout (oci-layout,
// index.json, blobs/sha256/<hex>; nested indexes by platform).
//
// Every path an archive names is resolved inside its directory without
// asking the file system to follow a symlink: `..` and absolute paths are
// refused, a relative symlink inside the archive (docker save links
// duplicate layers) is followed by hand and must stay inside. Every JSON
// file is read only up to MAX_JSON_BYTES. Digests: the config's sha256 is
// the image id and must match its name (legacy, docker 25+) or descriptor
// (OCI); blobs must match their descriptors; the layers' diff_ids come from
// the verified config and are checked when the layers are extracted.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ImageError } from './errors.js';
import type { ImageRunConfig } from './store.js';
import { entryParts } from './tree.js';

/** manifest.json, index.json, OCI manifests and image configs are all far below this. */
export const MAX_JSON_BYTES = 4 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 16;
const MAX_INDEX_DEPTH = 4;

export interface ArchiveLayer {
  /** The layer's file inside the archive directory. */
  file: string;
  /** The diff_id from the config: sha256 of the uncompressed tar, hex. */
  diffIdHex: string;
  /** The blob's own digest when the archive states one (descriptor, blobs/sha256/<hex> name). */
  blobHex: string | null;
}

export interface ArchiveImage {
  /** Image id hex: sha256 of the config. */
  idHex: string;
  tags: string[];
  config: ImageConfigFile;
  layers: ArchiveLayer[];
}

/** The image config file (docker's and OCI's share these fields). */
export interface ImageConfigFile {
  created?: string;
  architecture?: string;
  os?: string;
  config?: ImageRunConfig;
  rootfs?: { type?: string; diff_ids?: string[] };
}

interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string };
}

const OCI_ARCH: Partial<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  s390x: 's390x',
  ppc64: 'ppc64le',
  riscv64: 'riscv64',
};

export class Archive {
  constructor(
    readonly root: string,
    /** The archive as the user named it, for messages. */
    readonly what: string,
  ) {}

  private fail(message: string): never {
    throw new ImageError(`${this.what}: ${message}`);
  }

  /** rel resolved inside the archive, symlinks followed by hand and kept inside. */
  resolve(rel: unknown, hops = 0): string {
    if (typeof rel !== 'string' || rel === '')
      this.fail(`a path in its manifest is not a string: ${JSON.stringify(rel)}`);
    if (hops > MAX_SYMLINK_HOPS) this.fail(`${rel}: too many symlinks`);
    const parts = entryParts(rel, this.what);
    const done: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = path.join(this.root, ...done, parts[i]);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        this.fail(`${rel} is not in the archive`);
      }
      if (st.isSymbolicLink()) {
        const target = fs.readlinkSync(p);
        if (target.startsWith('/')) this.fail(`${rel}: a symlink to the absolute path ${target}: refused`);
        const joined = path.posix.normalize([...done, target].join('/'));
        if (joined === '..' || joined.startsWith('../'))
          this.fail(`${rel}: a symlink leading out of the archive: refused`);
        return this.resolve([joined, ...parts.slice(i + 1)].join('/'), hops + 1);
      }
      if (i < parts.length - 1 && !st.isDirectory())
        this.fail(`${rel}: ${done.concat(parts[i]).join('/')} is not a directory`);
      done.push(parts[i]);
    }
    return path.join(this.root, ...done);
  }

  /** A regular file of the archive (not a FIFO or device), its path. */
  file(rel: unknown): string {
    const p = this.resolve(rel);
    const st = fs.lstatSync(p);
    if (!st.isFile()) this.fail(`${String(rel)} is not a regular file`);
    return p;
  }

  has(rel: string): boolean {
    try {
      this.file(rel);
      return true;
    } catch {
      return false;
    }
  }

  /** A small file's bytes: refused past maxBytes before reading. */
  bytes(rel: unknown, maxBytes = MAX_JSON_BYTES): Buffer {
    const p = this.file(rel);
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) this.fail(`${String(rel)} is not a regular file`);
      if (st.size > maxBytes)
        this.fail(`${String(rel)} is ${st.size} bytes, over the ${maxBytes} a manifest or config may be: refused`);
      const buf = Buffer.alloc(st.size);
      let n = 0;
      while (n < buf.length) {
        const got = fs.readSync(fd, buf, n, buf.length - n, n);
        if (got === 0) break;
        n += got;
      }
      return buf.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  }

  json(rel: unknown, buf = this.bytes(rel)): unknown {
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch (err) {
      this.fail(`${String(rel)} is not valid JSON (${(err as Error).message})`);
    }
  }

  /** OCI blob path of a digest; only sha256. */
  blobPath(digest: unknown): { rel: string; hex: string } {
    const m = typeof digest === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(digest) : null;
    if (!m) this.fail(`digest ${JSON.stringify(digest)} is not sha256:<64 hex digits> (tstop checks sha256 only)`);
    return { rel: `blobs/sha256/${m[1]}`, hex: m[1] };
  }

  /** A blob's bytes, checked against its descriptor's digest and size. */
  blob(desc: Descriptor): Buffer {
    const { rel, hex } = this.blobPath(desc.digest);
    const buf = this.bytes(rel);
    const got = sha256(buf);
    if (got !== hex) this.fail(`${rel}: its sha256 is ${got}, not the ${hex} its descriptor names: refused`);
    if (typeof desc.size === 'number' && desc.size !== buf.length) {
      this.fail(`${rel}: ${buf.length} bytes, not the ${desc.size} its descriptor names: refused`);
    }
    return buf;
  }
}

export function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(a: Archive, v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new ImageError(`${a.what}: ${what} is not a list of strings`);
  return v;
}

/** The config, parsed, with its diff_ids checked against the layer count. */
function parseConfig(a: Archive, buf: Buffer, layerCount: number): { config: ImageConfigFile; diffIds: string[] } {
  const config = a.json('config', buf);
  if (!isRecord(config)) throw new ImageError(`${a.what}: the image config is not a JSON object`);
  const rootfs = config.rootfs;
  const diffIds = isRecord(rootfs) ? stringList(a, rootfs.diff_ids, 'rootfs.diff_ids') : [];
  if (diffIds.length !== layerCount) {
    throw new ImageError(
      `${a.what}: the config lists ${diffIds.length} layer diff_ids for ${layerCount} layers: refused`,
    );
  }
  const hexes = diffIds.map((d) => {
    const m = /^sha256:([0-9a-f]{64})$/.exec(d);
    if (!m) throw new ImageError(`${a.what}: diff_id ${JSON.stringify(d)} is not sha256:<64 hex digits>`);
    return m[1];
  });
  if (config.config !== undefined && config.config !== null && !isRecord(config.config)) {
    throw new ImageError(`${a.what}: the config's "config" is not an object`);
  }
  return { config: config as ImageConfigFile, diffIds: hexes };
}

/** docker save: manifest.json (both layouts). */
function dockerImages(a: Archive): ArchiveImage[] {
  const manifest = a.json('manifest.json');
  if (!Array.isArray(manifest) || manifest.length === 0)
    throw new ImageError(`${a.what}: manifest.json lists no image`);
  return manifest.map((m: unknown) => {
    if (!isRecord(m)) throw new ImageError(`${a.what}: a manifest.json entry is not an object`);
    const layerPaths = stringList(a, m.Layers, 'Layers');
    const configBuf = a.bytes(m.Config);
    const idHex = sha256(configBuf);
    const named = /^(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(String(m.Config))?.[1];
    if (named !== undefined && named !== idHex) {
      throw new ImageError(
        `${a.what}: ${String(m.Config)}: its sha256 is ${idHex}, not the one its name says: refused`,
      );
    }
    const { config, diffIds } = parseConfig(a, configBuf, layerPaths.length);
    const layers = layerPaths.map((rel, i) => ({
      file: a.file(rel),
      diffIdHex: diffIds[i],
      blobHex: /^blobs\/sha256\/([0-9a-f]{64})$/.exec(rel)?.[1] ?? null,
    }));
    return { idHex, tags: stringList(a, m.RepoTags, 'RepoTags'), config, layers };
  });
}

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

/** The OCI layout's images: index.json's manifests, nested indexes narrowed to this machine's platform. */
function ociImages(a: Archive): ArchiveImage[] {
  const layout = a.json('oci-layout');
  if (!isRecord(layout) || typeof layout.imageLayoutVersion !== 'string') {
    throw new ImageError(`${a.what}: oci-layout has no imageLayoutVersion`);
  }
  const index = a.json('index.json');
  if (!isRecord(index) || !Array.isArray(index.manifests))
    throw new ImageError(`${a.what}: index.json has no manifests`);
  const out: ArchiveImage[] = [];
  const walk = (desc: unknown, tags: string[], depth: number): void => {
    if (!isRecord(desc)) throw new ImageError(`${a.what}: a descriptor is not an object`);
    const d = desc as Descriptor;
    if (depth > MAX_INDEX_DEPTH) throw new ImageError(`${a.what}: indexes nested too deep`);
    const doc = a.json(d.digest, a.blob(d));
    if (!isRecord(doc)) throw new ImageError(`${a.what}: ${String(d.digest)} is not a JSON object`);
    const type = d.mediaType ?? (doc.mediaType as string | undefined);
    if ((type !== undefined && INDEX_TYPES.includes(type)) || Array.isArray(doc.manifests)) {
      const arch = OCI_ARCH[process.arch];
      const ours = (doc.manifests as Descriptor[]).filter(
        (m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === arch),
      );
      if (ours.length === 0)
        throw new ImageError(`${a.what}: no image for linux/${arch ?? process.arch} in ${String(d.digest)}`);
      walk(ours[0], tags, depth + 1);
      return;
    }
    if (!isRecord(doc.config) || !Array.isArray(doc.layers))
      throw new ImageError(`${a.what}: ${String(d.digest)} is not an image manifest`);
    const configBuf = a.blob(doc.config as Descriptor);
    const layerDescs = doc.layers as Descriptor[];
    const { config, diffIds } = parseConfig(a, configBuf, layerDescs.length);
    const layers = layerDescs.map((l, i) => {
      const { rel, hex } = a.blobPath(l.digest);
      return { file: a.file(rel), diffIdHex: diffIds[i], blobHex: hex };
    });
    out.push({ idHex: sha256(configBuf), tags, config, layers });
  };
  for (const m of index.manifests as unknown[]) {
    const ann = isRecord(m) && isRecord(m.annotations) ? (m.annotations as Record<string, string>) : {};
    walk(m, refNames(ann), 0);
  }
  if (out.length === 0) throw new ImageError(`${a.what}: index.json lists no image`);
  return out;
}

/** The name an OCI layout gives an image: containerd's full name, or a ref.name that is a full NAME:TAG. */
function refNames(ann: Record<string, string>): string[] {
  const full = ann['io.containerd.image.name'];
  if (typeof full === 'string' && full !== '') return [full];
  const ref = ann['org.opencontainers.image.ref.name'];
  if (typeof ref === 'string' && (ref.includes('/') || ref.includes(':'))) return [ref];
  return [];
}

/** The images of an unpacked archive or OCI layout directory. */
export function readArchive(root: string, what: string): ArchiveImage[] {
  const a = new Archive(root, what);
  if (a.has('manifest.json')) return dockerImages(a);
  if (a.has('index.json')) return ociImages(a);
  throw new ImageError(`${what}: neither a docker save archive (manifest.json) nor an OCI image layout (index.json)`);
}
