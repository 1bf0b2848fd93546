// Image archives built by the tests themselves (no registry is reachable):
// layer tars from entry lists (tar-stream's packer, so hostile entries are
// as easy to write as good ones), and the three containers tstop load
// reads: a legacy `docker save` (<id>/layer.tar), docker 25+'s
// (blobs/sha256 + manifest.json + index.json) and an OCI image layout
// (directory or tar, gzip layers).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import zlib from 'node:zlib';
import tarStream from 'tar-stream';

export interface Entry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: Buffer | string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

export function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** A tar of these entries, in this order. */
export async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: new Date(1_700_000_000_000),
      ...(e.linkname !== undefined ? { linkname: e.linkname } : {}),
      ...(e.devmajor !== undefined ? { devmajor: e.devmajor, devminor: e.devminor ?? 0 } : {}),
      ...(e.pax ? { pax: e.pax } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      if (type === 'file') pack.entry(header, Buffer.from(e.content ?? ''), (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Layer 1: a static busybox with a few applets, etc files, files for layer 2 to white out. */
export function busyboxLayerEntries(busybox: string): Entry[] {
  const applets = ['sh', 'cat', 'echo', 'ls', 'env', 'id', 'pwd', 'test', 'touch', 'sleep', 'true', 'stat', 'mknod'];
  return [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: fs.readFileSync(busybox), mode: 0o755 },
    ...applets.map((a): Entry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox' })),
    { name: 'etc/', type: 'directory' },
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\napp:x:1000:\n' },
    { name: 'etc/removed', content: 'layer 1 only\n' },
    { name: 'etc/kept', content: 'kept from layer 1\n' },
    { name: 'opt/', type: 'directory' },
    { name: 'opt/a/', type: 'directory' },
    { name: 'opt/a/old', content: 'hidden by the opaque directory of layer 2\n' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'bin/setuid-file', content: 'not really a program\n', mode: 0o4755 },
    { name: 'bin/hardlinked', type: 'link', linkname: 'bin/busybox' },
    { name: 'home/app/', type: 'directory', uid: 1000, gid: 1000, mode: 0o750 },
    { name: 'home/app/notes', content: 'owned by app\n', uid: 1000, gid: 1000, mode: 0o600 },
  ];
}

/** Layer 2: whites out etc/removed, adds etc/added, makes opt/a opaque. */
export const SECOND_LAYER: Entry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/.wh.removed', content: '' },
  { name: 'etc/added', content: 'added by layer 2\n' },
  { name: 'opt/a/', type: 'directory' },
  { name: 'opt/a/.wh..wh..opq', content: '' },
  { name: 'opt/a/new', content: 'layer 2\n' },
];

export interface ImageSpec {
  layers: Buffer[];
  /** The "config" object (Cmd, Env...). */
  config: Record<string, unknown>;
  tags: string[];
}

export function configOf(spec: ImageSpec): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-02T03:04:05Z',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => `sha256:${sha256(l)}`) },
    }),
  );
}

function write(dir: string, rel: string, data: Buffer | string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), data);
}

/** A directory laid out as a legacy `docker save` (<id>/layer.tar, <id>.json, manifest.json). */
export function dockerSaveLegacyDir(dir: string, spec: ImageSpec): string {
  const config = configOf(spec);
  const layerPaths = spec.layers.map((l, i) => {
    const id = sha256(Buffer.concat([Buffer.from(String(i)), l]));
    write(dir, `${id}/layer.tar`, l);
    write(dir, `${id}/VERSION`, '1.0');
    return `${id}/layer.tar`;
  });
  write(dir, `${sha256(config)}.json`, config);
  write(
    dir,
    'manifest.json',
    JSON.stringify([{ Config: `${sha256(config)}.json`, RepoTags: spec.tags, Layers: layerPaths }]),
  );
  return dir;
}

/** docker 25+'s `docker save`: blobs/sha256, an OCI index.json and docker's manifest.json. */
export function dockerSaveOciDir(dir: string, spec: ImageSpec): string {
  const config = configOf(spec);
  for (const l of spec.layers) write(dir, `blobs/sha256/${sha256(l)}`, l);
  write(dir, `blobs/sha256/${sha256(config)}`, config);
  const manifest = ociManifest(config, spec.layers, spec.layers, 'application/vnd.oci.image.layer.v1.tar');
  write(dir, `blobs/sha256/${sha256(manifest)}`, manifest);
  write(dir, 'oci-layout', '{"imageLayoutVersion":"1.0.0"}');
  write(dir, 'index.json', JSON.stringify(ociIndex(manifest, spec.tags[0])));
  write(
    dir,
    'manifest.json',
    JSON.stringify([
      {
        Config: `blobs/sha256/${sha256(config)}`,
        RepoTags: spec.tags,
        Layers: spec.layers.map((l) => `blobs/sha256/${sha256(l)}`),
      },
    ]),
  );
  return dir;
}

function ociManifest(config: Buffer, blobs: Buffer[], _tars: Buffer[], mediaType: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha256(config)}`,
        size: config.length,
      },
      layers: blobs.map((b) => ({ mediaType, digest: `sha256:${sha256(b)}`, size: b.length })),
    }),
  );
}

function ociIndex(manifest: Buffer, tag: string | undefined): unknown {
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${sha256(manifest)}`,
        size: manifest.length,
        ...(tag ? { annotations: { 'org.opencontainers.image.ref.name': tag } } : {}),
      },
    ],
  };
}

/** An OCI image layout with gzip-compressed layers. */
export function ociLayoutDir(dir: string, spec: ImageSpec): string {
  const config = configOf(spec);
  const blobs = spec.layers.map((l) => zlib.gzipSync(l));
  for (const b of blobs) write(dir, `blobs/sha256/${sha256(b)}`, b);
  write(dir, `blobs/sha256/${sha256(config)}`, config);
  const manifest = ociManifest(config, blobs, spec.layers, 'application/vnd.oci.image.layer.v1.tar+gzip');
  write(dir, `blobs/sha256/${sha256(manifest)}`, manifest);
  write(dir, 'oci-layout', '{"imageLayoutVersion":"1.0.0"}');
  write(dir, 'index.json', JSON.stringify(ociIndex(manifest, spec.tags[0])));
  return dir;
}

/** The directory as a tar file (the system tar: what a user would make). */
export function tarDir(dir: string, file: string): string {
  const r = spawnSync('tar', ['-C', dir, '-cf', file, '.'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return file;
}
