// Network counters per interface of an isolated network namespace, from
// /proc/<pid>/net/dev of a process inside it. Each namespace is read once a
// tick however many cgroups share it (the caller keys by namespace inode).

import fs from 'node:fs';
import path from 'node:path';
import type { ContainerSnapshot, NetworkInterface } from '../src/model/types.js';

/**
 * Pure: /proc/net/dev. After two header lines each line is
 * "iface: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast
 *  tx_bytes tx_packets tx_errs tx_drop fifo colls carrier compressed".
 */
export function parseNetDev(content: string): NetworkInterface[] {
  const out: NetworkInterface[] = [];
  const lines = content.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const v = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (name === '' || v.length < 16 || v.some((x) => !Number.isFinite(x))) continue;
    out.push({
      interface: name,
      rxBytes: v[0],
      rxPackets: v[1],
      rxErrors: v[2],
      rxDropped: v[3],
      txBytes: v[8],
      txPackets: v[9],
      txErrors: v[10],
      txDropped: v[11],
      rxBytesPerSecond: null,
      txBytesPerSecond: null,
    });
  }
  return out;
}

/** Reads one /proc/.../net/dev; null when it is gone or unreadable. */
export function readNetDev(file: string): NetworkInterface[] | null {
  try {
    return parseNetDev(fs.readFileSync(file, 'latin1'));
  } catch {
    return null;
  }
}

/**
 * Fills `network` of every container with an isolated network namespace,
 * reading each namespace once through its init process, however many
 * cgroups share it.
 */
export function collectNetworks(root: string, containers: readonly ContainerSnapshot[]): void {
  const byNamespace = new Map<number, NetworkInterface[] | null>();
  for (const c of containers) {
    const net = c.namespaces?.net;
    if (!net || !net.isolated || c.initPid === null) continue;
    let ifaces = byNamespace.get(net.inode);
    if (ifaces === undefined) {
      // null when the process left between reads: the next tick finds a new init
      ifaces = readNetDev(path.join(root, 'proc', String(c.initPid), 'net/dev'));
      byNamespace.set(net.inode, ifaces);
    }
    // Each container gets its own objects so rates can be filled per container.
    c.network = ifaces === null ? null : ifaces.map((i) => ({ ...i }));
  }
}
