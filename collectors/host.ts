// The host: name, kernel, online CPUs, memory and CPU busy time, from
// procfs and sysfs under the --root prefix.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCpuList } from '../src/cgroupfs/parse.js';
import { USER_HZ } from './processes.js';

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'latin1').trim();
  } catch {
    return null;
  }
}

export interface HostStatic {
  hostname: string;
  kernel: string;
  cpus: number;
  onlineCpus: number[];
  machineId: string | null;
  bootId: string | null;
  systemUuid: string | null;
}

/** Pure: the CPU numbers of the cpuN lines of /proc/stat. */
export function cpusInProcStat(content: string): number[] {
  return [...content.matchAll(/^cpu(\d+) /gm)].map((m) => Number(m[1]));
}

export function collectHostStatic(root: string): HostStatic {
  // sysfs's online list, else the cpuN lines of /proc/stat (which lists online CPUs), else Node's view.
  let onlineCpus = parseCpuList(readText(path.join(root, 'sys/devices/system/cpu/online')) ?? '') ?? [];
  if (onlineCpus.length === 0) onlineCpus = cpusInProcStat(readText(path.join(root, 'proc/stat')) ?? '');
  if (onlineCpus.length === 0) onlineCpus = os.cpus().map((_, i) => i);
  return {
    // The hostname sysctl answers for the reader's own UTS namespace: for a host
    // mounted at --root, its /etc/hostname names it better.
    hostname:
      (root !== '/' ? readText(path.join(root, 'etc/hostname')) : null) ??
      readText(path.join(root, 'proc/sys/kernel/hostname')) ??
      os.hostname(),
    kernel: readText(path.join(root, 'proc/sys/kernel/osrelease')) ?? os.release(),
    cpus: onlineCpus.length,
    onlineCpus,
    machineId:
      readText(path.join(root, 'etc/machine-id')) || readText(path.join(root, 'var/lib/dbus/machine-id')) || null,
    bootId: readText(path.join(root, 'proc/sys/kernel/random/boot_id')) || null,
    systemUuid: readText(path.join(root, 'sys/class/dmi/id/product_uuid')) || null,
  };
}

/** Pure: MemTotal and MemAvailable from /proc/meminfo, in bytes. */
export function parseMeminfo(content: string): { totalBytes: number | null; availableBytes: number | null } {
  const kb = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(content);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') };
}

/** Pure: busy CPU seconds (all CPUs) from the first line of /proc/stat. */
export function parseProcStatBusySeconds(content: string): number | null {
  const m = /^cpu\s+(.*)$/m.exec(content);
  if (!m) return null;
  const t = m[1].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = (t[0] ?? 0) + (t[1] ?? 0) + (t[2] ?? 0) + (t[5] ?? 0) + (t[6] ?? 0) + (t[7] ?? 0);
  return busy / USER_HZ;
}

export function collectHostDynamic(root: string): {
  memoryBytes: number;
  memoryAvailableBytes: number | null;
  cpuUsageSeconds: number;
} {
  const mem = parseMeminfo(readText(path.join(root, 'proc/meminfo')) ?? '');
  return {
    memoryBytes: mem.totalBytes ?? os.totalmem(),
    memoryAvailableBytes: mem.availableBytes,
    cpuUsageSeconds: parseProcStatBusySeconds(readText(path.join(root, 'proc/stat')) ?? '') ?? 0,
  };
}

/** The host network namespace's /proc/net/dev: PID 1's where readable (also from a container with the host's PID namespace), else tstop's own. */
export function hostNetDevPath(root: string): string | null {
  for (const p of ['proc/1/net/dev', 'proc/net/dev']) {
    const file = path.join(root, p);
    try {
      fs.accessSync(file, fs.constants.R_OK);
      return file;
    } catch {
      // try the next
    }
  }
  return null;
}
