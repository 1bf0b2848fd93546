// Namespaces of a container's init process: the inode of each of the 8
// types from /proc/<pid>/ns/*, and whether it differs from the host's.
// The host reference is /proc/1/ns where readable, else tstop's own
// /proc/self/ns (hardened hosts and this sandbox hide PID 1's links).

import fs from 'node:fs';
import path from 'node:path';
import { NAMESPACE_TYPES, type NamespaceType, type Namespaces } from '../src/model/types.js';

export type NamespaceInodes = Record<NamespaceType, number | null>;

export interface HostNamespaces {
  reference: '/proc/1/ns' | '/proc/self/ns';
  inodes: NamespaceInodes;
}

/** Pure: the inode in a namespace link target such as "net:[4026531840]". */
export function parseNamespaceLink(target: string): number | null {
  const m = /^[a-z_]+:\[(\d+)\]$/.exec(target);
  return m ? Number(m[1]) : null;
}

/** Reads the 8 links of a ns directory; null if none could be read (no permission, gone). */
export function readNamespaceInodes(nsDir: string): NamespaceInodes | null {
  const out = {} as NamespaceInodes;
  let any = false;
  for (const type of NAMESPACE_TYPES) {
    let inode: number | null = null;
    try {
      inode = parseNamespaceLink(fs.readlinkSync(path.join(nsDir, type)));
    } catch {
      // this kernel has no such type (time before 5.6), or no permission
    }
    out[type] = inode;
    if (inode !== null) any = true;
  }
  return any ? out : null;
}

export function hostNamespaces(root: string): HostNamespaces | null {
  const init = readNamespaceInodes(path.join(root, 'proc/1/ns'));
  if (init) return { reference: '/proc/1/ns', inodes: init };
  const self = readNamespaceInodes(path.join(root, 'proc/self/ns'));
  return self ? { reference: '/proc/self/ns', inodes: self } : null;
}

/** Pure: marks each of the process's namespaces isolated or shared with the host. */
export function compareNamespaces(proc: NamespaceInodes, host: NamespaceInodes): Namespaces {
  const out = {} as Namespaces;
  for (const type of NAMESPACE_TYPES) {
    const inode = proc[type];
    out[type] = inode === null ? null : { inode, isolated: host[type] !== null && inode !== host[type] };
  }
  return out;
}

export function collectNamespaces(root: string, pid: number, host: HostNamespaces | null): Namespaces | null {
  if (!host) return null;
  const proc = readNamespaceInodes(path.join(root, 'proc', String(pid), 'ns'));
  return proc ? compareNamespaces(proc, host.inodes) : null;
}
