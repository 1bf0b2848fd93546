// Network counters per interface of an isolated network namespace, from
// /proc/<pid>/net/dev of a process inside it. Each namespace is read once a
// tick however many cgroups share it (the caller keys by namespace inode).

import type { NetworkInterface } from '../src/model/types.js';

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
