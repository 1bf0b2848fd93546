// Capabilities of a container's init process, from the CapEff, CapPrm and
// CapBnd masks in /proc/<pid>/status, decoded to names.

import fs from 'node:fs';
import path from 'node:path';
import type { Capabilities } from '../src/model/types.js';

/** Capability names by bit number (linux/capability.h). */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** Pure: a hex capability mask ("00000000a80425fb") to names; unknown bits as "CAP_<n>". */
export function decodeCapabilities(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) names.push(CAPABILITY_NAMES[bit] ?? `CAP_${bit}`);
  }
  return names;
}

/** Pure: the capability sets from /proc/<pid>/status text. */
export function parseStatusCapabilities(status: string): Capabilities | null {
  const field = (key: string): string[] | null => {
    const m = new RegExp(`^${key}:\\s*([0-9a-fA-F]+)$`, 'm').exec(status);
    return m ? decodeCapabilities(m[1]) : null;
  };
  const effective = field('CapEff');
  const permitted = field('CapPrm');
  const bounding = field('CapBnd');
  if (!effective || !permitted || !bounding) return null;
  return { effective, permitted, bounding };
}

export function collectCapabilities(root: string, pid: number): Capabilities | null {
  try {
    return parseStatusCapabilities(fs.readFileSync(path.join(root, 'proc', String(pid), 'status'), 'latin1'));
  } catch {
    return null;
  }
}
