// native/build/tstop-sys.node (native/sys/sys.c): the batch read, inotify and
// flock as an N-API addon. The collection and the recorder use it instead of
// koffi, whose load costs a process ~6 MB of RSS and ~8 ms. Where the build
// made none (no node_api.h, no compiler) or it does not load (built for
// another node), each caller falls back to koffi with the same results;
// TSTOP_NO_SYS_ADDON=1 forces that fallback.

import fs from 'node:fs';
import { packagePath } from './package-root.js';

/** The addon's functions; each failure is -errno, never an exception. */
export interface SysAddon {
  readBatch(
    fds: Int32Array,
    n: number,
    buf: Uint8Array,
    cap: number,
    maxFile: number,
    offs: Int32Array,
    lens: Int32Array,
  ): number;
  /**
   * readBatch, and same[i] = 1 where file i gave the bytes it gave in the
   * previous call (prev*: that call's). Absent from an addon built before it.
   */
  readBatchSame?(
    ...args: [
      ...Parameters<SysAddon['readBatch']>,
      prevBuf: Uint8Array,
      prevOffs: Int32Array,
      prevLens: Int32Array,
      same: Uint8Array,
    ]
  ): number;
  inotifyInit(flags: number): number;
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  inotifyRmWatch(fd: number, wd: number): number;
  /** read(2) into the whole of buf: the byte count, or -errno (-EAGAIN on an empty non-blocking fd). */
  read(fd: number, buf: Uint8Array): number;
  flock(fd: number, operation: number): number;
}

const NAMES = ['readBatch', 'inotifyInit', 'inotifyAddWatch', 'inotifyRmWatch', 'read', 'flock'] as const;

let addon: SysAddon | null | undefined;

/** The addon, or null where there is none (then use koffi). */
export function sysAddon(): SysAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.TSTOP_NO_SYS_ADDON === '1') return addon;
  const file = packagePath('native/build/tstop-sys.node');
  if (!fs.existsSync(file)) return addon;
  const m = { exports: {} as Record<string, unknown> };
  try {
    process.dlopen(m, file);
  } catch {
    return addon; // built for another node
  }
  if (NAMES.every((n) => typeof m.exports[n] === 'function')) addon = m.exports as unknown as SysAddon;
  return addon;
}
