// Facts about the machine a limit is checked against: online CPUs and
// memory nodes, the page size the kernel rounds memory limits to, and
// block devices (a path to major:minor, whole disk or partition).
// Injected into the planner so fixture tests run anywhere.

import fs from 'node:fs';
import path from 'node:path';
import { parseCpuList } from '../cgroupfs/parse.js';
import { devString } from './safety.js';
import type { DeviceInfo, DeviceLookup } from './units.js';

export interface HostFacts {
  onlineCpus: number[];
  onlineMems: number[];
  pageSize: number;
  lookupDevice: DeviceLookup;
  /** What /sys/dev/block says about MAJ:MIN. */
  blockDevice(major: number, minor: number): { kind: 'disk' | 'partition'; name: string; disk: string | null } | null;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/** AT_PAGESZ from /proc/self/auxv (64-bit little-endian pairs); 4096 if unreadable. */
export function pageSize(root = '/'): number {
  try {
    const auxv = fs.readFileSync(path.join(root, 'proc/self/auxv'));
    for (let i = 0; i + 16 <= auxv.length; i += 16) {
      const type = auxv.readBigUInt64LE(i);
      if (type === 0n) break;
      if (type === 6n) return Number(auxv.readBigUInt64LE(i + 8));
    }
  } catch {
    // not readable: the common value
  }
  return 4096;
}

export function readHostFacts(root = '/'): HostFacts {
  const cpus = parseCpuList(readText(path.join(root, 'sys/devices/system/cpu/online')) ?? '') ?? [];
  const mems = parseCpuList(readText(path.join(root, 'sys/devices/system/node/online')) ?? '0') ?? [0];
  return {
    onlineCpus: cpus.length > 0 ? cpus : [0],
    onlineMems: mems.length > 0 ? mems : [0],
    pageSize: pageSize(root),
    lookupDevice: (p: string): DeviceInfo | 'missing' => {
      // Only device nodes under /dev: anything else answers like a missing
      // device, so a request cannot probe which other paths exist.
      const devDir = path.join(root, 'dev');
      if (!p.startsWith('/dev/') || p.split('/').includes('..')) return 'missing';
      try {
        const real = fs.realpathSync(path.join(root, p));
        if (!real.startsWith(devDir + '/') && root === '/') return 'missing';
        const st = fs.statSync(real);
        const [major, minor] = devString(st.rdev).split(':').map(Number);
        return { major, minor, isBlock: st.isBlockDevice() };
      } catch {
        return 'missing';
      }
    },
    blockDevice(major, minor) {
      const dir = path.join(root, 'sys/dev/block', `${major}:${minor}`);
      let target: string;
      try {
        target = fs.realpathSync(dir);
      } catch {
        return null;
      }
      const partition = fs.existsSync(path.join(target, 'partition'));
      return {
        kind: partition ? 'partition' : 'disk',
        name: path.basename(target),
        disk: partition ? path.basename(path.dirname(target)) : null,
      };
    },
  };
}
