// Writing a tar's entries into a fresh directory without ever being led out
// of it. tar-stream parses; the path safety is ours and never asks the file
// system to resolve a symlink:
//
// - a name is split into components: absolute names, `..`, NUL bytes and
//   over-long names are refused;
// - every entry written is remembered with its kind, so a parent directory
//   is known to be a real directory this extraction made (the tree starts
//   empty, mode 0700, and nothing else writes into it): a name under a
//   symlink (absolute or relative, whatever it points to) or under a file is
//   refused instead of being resolved;
// - files are created O_CREAT|O_EXCL|O_NOFOLLOW after removing what was
//   there (a later entry replaces an earlier one, as tar does), so an
//   earlier hardlink or symlink is never written through;
// - a hardlink must name an earlier non-directory entry of the same tar;
// - device nodes are refused (a layer's /dev comes from the runtime, and a
//   device node kept on the host disk is a way around the device cgroup);
//   FIFOs are made in layers only.
//
// In a layer (`layer: true`) owners, modes, times and the xattrs tstop
// trusts (security.capability, user.*) are applied, and docker's whiteouts
// become overlayfs's: `.wh.NAME` a 0/0 character device at NAME,
// `.wh..wh..opq` the trusted.overlay.opaque xattr on its directory. A
// whiteout never removes this layer's own entry of that name (it only hides
// lower layers).

import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Header } from 'tar-stream';
import { ImageError } from './errors.js';
import { lsetxattr, mknod, S_IFCHR, S_IFIFO } from './syscalls.js';

type Kind = 'dir' | 'file' | 'symlink' | 'fifo' | 'whiteout';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const MAX_NAME_BYTES = 4096;
const MAX_COMPONENT_BYTES = 255;
const O_CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** An entry's content as tar-stream gives it. */
export type EntryData = AsyncIterable<Buffer> & { resume(): unknown };

export interface TreeOptions {
  /** A layer (owners, modes, xattrs, whiteouts, FIFOs) or an archive's own files (plain files, dirs, symlinks). */
  layer: boolean;
  /** What the tar is, for messages ("layer sha256:ab12...", "archive x.tar"). */
  what: string;
  /** Refuse the tar beyond this many entries. */
  maxEntries: number;
  /** Called for what is skipped rather than refused (an xattr tar-stream could not keep). */
  warn?: (message: string) => void;
}

/** The components of a tar entry name, or a refusal. */
export function entryParts(name: string, what: string): string[] {
  if (name.includes('\0')) throw new ImageError(`${what}: entry ${JSON.stringify(name)} contains a NUL byte: refused`);
  if (name.startsWith('/')) throw new ImageError(`${what}: entry ${JSON.stringify(name)} is an absolute path: refused`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    throw new ImageError(`${what}: an entry name is over 4096 bytes: refused`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw new ImageError(`${what}: entry ${JSON.stringify(name)} climbs out with '..': refused`);
  }
  if (parts.some((p) => Buffer.byteLength(p) > MAX_COMPONENT_BYTES)) {
    throw new ImageError(`${what}: entry ${JSON.stringify(name)} has a component over 255 bytes: refused`);
  }
  return parts;
}

export class SafeTree {
  private readonly kinds = new Map<string, Kind>();
  private readonly dirTimes = new Map<string, Date>();
  /** Bytes of file content written. */
  sizeBytes = 0;
  entries = 0;

  constructor(
    readonly root: string,
    private readonly opts: TreeOptions,
  ) {}

  private refuse(name: string, why: string): never {
    throw new ImageError(`${this.opts.what}: entry ${JSON.stringify(name)} ${why}: refused`);
  }

  private full(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, rel);
  }

  /** Every parent of parts is a real directory of this tree (made when missing). */
  private ensureParents(name: string, parts: string[]): void {
    for (let i = 0; i < parts.length - 1; i++) {
      const rel = parts.slice(0, i + 1).join('/');
      const kind = this.kinds.get(rel);
      if (kind === 'dir') continue;
      if (kind === 'symlink') this.refuse(name, `would be written through the symlink '${rel}'`);
      if (kind === 'whiteout') {
        // `.wh.d` then `d/x`: d is this layer's directory now, hiding the lower d whole (an opaque directory).
        fs.unlinkSync(this.full(rel));
        fs.mkdirSync(this.full(rel), { mode: 0o755 });
        lsetxattr(this.full(rel), 'trusted.overlay.opaque', Buffer.from('y'));
        this.kinds.set(rel, 'dir');
        continue;
      }
      if (kind !== undefined) this.refuse(name, `is under '${rel}', which is not a directory`);
      fs.mkdirSync(this.full(rel), { mode: 0o755 });
      this.kinds.set(rel, 'dir');
    }
  }

  /** Removes what an earlier entry put at rel (a directory stays when a directory replaces it). */
  private clear(rel: string, next: Kind): void {
    const kind = this.kinds.get(rel);
    if (kind === undefined || (kind === 'dir' && next === 'dir')) return;
    if (kind === 'dir') {
      fs.rmSync(this.full(rel), { recursive: true });
      for (const k of [...this.kinds.keys()]) if (k.startsWith(`${rel}/`)) this.kinds.delete(k);
    } else {
      fs.unlinkSync(this.full(rel));
    }
    this.kinds.delete(rel);
  }

  /** Writes one entry; `data` is always consumed. */
  async entry(h: Header, data: EntryData): Promise<void> {
    try {
      await this.write(h, data);
    } finally {
      data.resume();
    }
  }

  private async write(h: Header, data: EntryData): Promise<void> {
    if (++this.entries > this.opts.maxEntries) {
      throw new ImageError(`${this.opts.what}: more than ${this.opts.maxEntries} entries: refused`);
    }
    const name = h.name;
    const parts = entryParts(name, this.opts.what);
    if (parts.length === 0) return; // "./": the root itself, made by us
    const rel = parts.join('/');
    const base = parts[parts.length - 1];
    const type = h.type as string | null;
    if (this.opts.layer && base.startsWith(WHITEOUT_PREFIX)) return this.whiteout(name, parts);
    this.ensureParents(name, parts);
    const full = this.full(rel);
    switch (type) {
      case 'directory':
        this.clear(rel, 'dir');
        if (!this.kinds.has(rel)) fs.mkdirSync(full, { mode: 0o700 });
        this.kinds.set(rel, 'dir');
        break;
      case 'file':
      case 'contiguous-file': {
        this.clear(rel, 'file');
        this.kinds.set(rel, 'file');
        const fd = fs.openSync(full, O_CREATE_NEW, 0o600);
        await pipeline(data, fs.createWriteStream(full, { fd }));
        this.sizeBytes += h.size;
        break;
      }
      case 'symlink':
        if (h.linkname === '' || h.linkname.includes('\0')) this.refuse(name, 'is a symlink with an empty target');
        this.clear(rel, 'symlink');
        fs.symlinkSync(h.linkname, full);
        this.kinds.set(rel, 'symlink');
        break;
      case 'link': {
        const target = entryParts(h.linkname, this.opts.what).join('/');
        const kind = this.kinds.get(target);
        if (kind === undefined)
          this.refuse(name, `is a hardlink to '${h.linkname}', which is not an earlier entry of it`);
        if (kind === 'dir' || kind === 'whiteout') this.refuse(name, `is a hardlink to the ${kind} '${h.linkname}'`);
        if (target === rel) return;
        this.clear(rel, 'file');
        fs.linkSync(this.full(target), full);
        this.kinds.set(rel, kind);
        return; // a hardlink shares its target's owner, mode and times
      }
      case 'fifo':
        if (!this.opts.layer) this.refuse(name, 'is a FIFO');
        this.clear(rel, 'fifo');
        mknod(full, S_IFIFO | 0o600);
        this.kinds.set(rel, 'fifo');
        break;
      case 'character-device':
      case 'block-device':
        this.refuse(
          name,
          `is a device node (${type} ${h.devmajor}:${h.devminor}); tstop makes /dev itself and keeps no device node from an image`,
        );
        break;
      default:
        this.refuse(name, `has a type tstop does not extract (${type ?? 'unknown'})`);
    }
    if (this.opts.layer) this.applyMeta(rel, full, h);
  }

  private applyMeta(rel: string, full: string, h: Header): void {
    const kind = this.kinds.get(rel);
    fs.lchownSync(full, h.uid, h.gid);
    if (kind !== 'symlink') fs.chmodSync(full, h.mode & 0o7777); // after chown, which clears setuid bits
    for (const [key, value] of Object.entries((h.pax ?? {}) as Record<string, string>)) {
      if (key.startsWith('SCHILY.xattr.')) this.xattr(h.name, full, key.slice('SCHILY.xattr.'.length), value);
    }
    if (kind === 'dir') this.dirTimes.set(rel, h.mtime);
    else fs.lutimesSync(full, h.mtime, h.mtime);
  }

  /** security.capability and user.* are kept; trusted.* (overlayfs's own) refused; the rest (selinux labels...) skipped. */
  private xattr(name: string, full: string, key: string, value: string): void {
    if (key.startsWith('trusted.')) this.refuse(name, `carries the xattr ${key}, which only tstop may set`);
    if (key !== 'security.capability' && !key.startsWith('user.')) return;
    if (value.includes('\uFFFD')) {
      // tar-stream decodes PAX values as UTF-8: bytes that are not UTF-8 are lost. Without the xattr the file has less privilege, not more.
      this.opts.warn?.(`${this.opts.what}: ${name}: xattr ${key} is not valid UTF-8 after parsing and was not kept`);
      return;
    }
    try {
      lsetxattr(full, key, Buffer.from(value, 'utf8'));
    } catch (err) {
      this.opts.warn?.(`${this.opts.what}: ${name}: xattr ${key} not kept (${(err as Error).message})`); // less privilege, not more
    }
  }

  private whiteout(name: string, parts: string[]): void {
    const base = parts[parts.length - 1];
    this.ensureParents(name, parts);
    const parent = parts.slice(0, -1).join('/');
    if (base === OPAQUE_MARKER) {
      lsetxattr(this.full(parent), 'trusted.overlay.opaque', Buffer.from('y'));
      return;
    }
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // aufs's own bookkeeping (.wh..wh.plnk...), as docker ignores it
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') this.refuse(name, 'is a whiteout of nothing');
    const rel = parent === '' ? hidden : `${parent}/${hidden}`;
    if (this.kinds.has(rel)) return; // this layer's own entry stays: a whiteout hides lower layers only
    mknod(this.full(rel), S_IFCHR); // 0/0, mode 0: overlayfs's whiteout
    this.kinds.set(rel, 'whiteout');
  }

  /** Directory times last (writing into a directory changes its mtime). */
  finish(): void {
    for (const [rel, mtime] of this.dirTimes) fs.utimesSync(this.full(rel), mtime, mtime);
  }
}
