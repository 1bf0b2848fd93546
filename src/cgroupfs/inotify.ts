// A thin inotify binding (the tstop-sys addon, else koffi): one non-blocking inotify
// descriptor, one watch per cgroup directory, events drained synchronously
// at the start of each tick. Node's fs.watch (and chokidar on top of it)
// costs a handle per directory and, for chokidar, a stat of every file: at
// 1,000 cgroups in 10 hierarchies that was 450 MB of RSS (docs/architecture.md).

import fs from 'node:fs';
import { createRequire } from 'node:module';
import { sysAddon } from '../util/sys-addon.js';

const IN_NONBLOCK = 0o4000;
const IN_CLOEXEC = 0o2000000;
export const IN_MODIFY = 0x2;
export const IN_CREATE = 0x100;
export const IN_DELETE = 0x200;
export const IN_DELETE_SELF = 0x400;
export const IN_MOVED_FROM = 0x40;
export const IN_MOVED_TO = 0x80;
export const IN_ONLYDIR = 0x1000000;
export const IN_IGNORED = 0x8000;
export const IN_Q_OVERFLOW = 0x4000;
export const IN_ISDIR = 0x40000000;

const EVENT_HEADER_BYTES = 16;

/** inotify's calls; each returns -1 on failure, like libc. */
export interface InotifyCalls {
  init(flags: number): number;
  addWatch(fd: number, path: string, mask: number): number;
  rmWatch(fd: number, wd: number): number;
  /** Reads queued events into buf without blocking: the byte count, or 0 when none are queued. */
  read(fd: number, buf: Buffer): number;
}

let calls: InotifyCalls | null | undefined;

function loadCalls(): InotifyCalls | null {
  if (calls !== undefined) return calls;
  const addon = sysAddon();
  calls = addon
    ? {
        init: (flags) => Math.max(addon.inotifyInit(flags), -1),
        addWatch: (fd, path, mask) => Math.max(addon.inotifyAddWatch(fd, path, mask), -1),
        rmWatch: (fd, wd) => Math.max(addon.inotifyRmWatch(fd, wd), -1),
        read: (fd, buf) => {
          const n = addon.read(fd, buf);
          if (n >= 0 || n === -EAGAIN) return Math.max(n, 0);
          throw Object.assign(new Error(`read of the inotify descriptor failed (errno ${-n})`), { errno: -n });
        },
      }
    : inotifyCallsThroughKoffi();
  return calls;
}

const EAGAIN = 11;

/** The same calls through koffi and libc (the fallback), or null without koffi. */
export function inotifyCallsThroughKoffi(): InotifyCalls | null {
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(name: string): { func(signature: string): (...args: unknown[]) => number };
    };
    const lib = koffi.load('libc.so.6');
    const init = lib.func('int inotify_init1(int flags)');
    const addWatch = lib.func('int inotify_add_watch(int fd, const char *path, uint32_t mask)');
    const rmWatch = lib.func('int inotify_rm_watch(int fd, int wd)');
    return {
      init: (flags) => init(flags),
      addWatch: (fd, path, mask) => addWatch(fd, path, mask),
      rmWatch: (fd, wd) => rmWatch(fd, wd),
      read: (fd, buf) => {
        try {
          return fs.readSync(fd, buf, 0, buf.length, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
          throw err;
        }
      },
    };
  } catch {
    return null; // no koffi for this platform: the periodic rescan does the work
  }
}

export interface InotifyEvent {
  wd: number;
  mask: number;
  name: string;
}

export class Inotify {
  private readonly buf = Buffer.allocUnsafe(64 * 1024);

  private constructor(
    private readonly lib: InotifyCalls,
    readonly fd: number,
  ) {}

  /** An inotify instance, or null where inotify cannot be had (no addon nor koffi, no instances left). */
  static open(lib: InotifyCalls | null = loadCalls()): Inotify | null {
    if (!lib) return null;
    const fd = lib.init(IN_NONBLOCK | IN_CLOEXEC);
    return fd < 0 ? null : new Inotify(lib, fd);
  }

  /**
   * Watches a directory for entries appearing and going and, with
   * modifications, for writes to its files (IN_MODIFY with the file's name:
   * one watch per directory, none per file); returns the watch id or -1.
   */
  watchDir(dir: string, modifications = false): number {
    const mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR | (modifications ? IN_MODIFY : 0);
    return this.lib.addWatch(this.fd, dir, mask);
  }

  /** Watches one file for changes (a kernfs file's notification, e.g. cgroup.events); returns the watch id or -1. */
  watchFile(file: string): number {
    return this.lib.addWatch(this.fd, file, IN_MODIFY);
  }

  unwatch(wd: number): void {
    this.lib.rmWatch(this.fd, wd);
  }

  /** Reads every queued event without blocking. */
  drain(onEvent: (e: InotifyEvent) => void): void {
    for (;;) {
      const n = this.lib.read(this.fd, this.buf);
      if (n === 0) return;
      let off = 0;
      while (off + EVENT_HEADER_BYTES <= n) {
        const wd = this.buf.readInt32LE(off);
        const mask = this.buf.readUInt32LE(off + 4);
        const len = this.buf.readUInt32LE(off + 12);
        const nameEnd = this.buf.indexOf(0, off + EVENT_HEADER_BYTES);
        const end = nameEnd < 0 || nameEnd > off + EVENT_HEADER_BYTES + len ? off + EVENT_HEADER_BYTES + len : nameEnd;
        onEvent({ wd, mask, name: this.buf.toString('utf8', off + EVENT_HEADER_BYTES, end) });
        off += EVENT_HEADER_BYTES + len;
      }
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
