// Rates come from two snapshots: CPU %, throttled %, bytes and operations per
// second. A cgroup without a previous sample, or recreated under the same
// path (another inode), has null rates: never a zero, never a bogus delta.

import type { ContainerSnapshot, IoStats, NetworkInterface, Snapshot } from './types.js';

/** Counter increase per second; null when unknown or when the counter went backwards (reset). */
export function perSecond(now: number | null, before: number | null, seconds: number): number | null {
  if (now === null || before === null || seconds <= 0 || now < before) return null;
  return (now - before) / seconds;
}

function containerRates(c: ContainerSnapshot, p: ContainerSnapshot, seconds: number): void {
  if (c.cpu && p.cpu) {
    const cores = perSecond(c.cpu.usageSeconds, p.cpu.usageSeconds, seconds);
    c.cpu.percent = cores === null ? null : cores * 100;
    c.cpu.quotaPercent = cores === null || !c.cpu.quotaCores ? null : (cores / c.cpu.quotaCores) * 100;
    const periods = perSecond(c.cpu.periods, p.cpu.periods, 1);
    const throttled = perSecond(c.cpu.throttledPeriods, p.cpu.throttledPeriods, 1);
    c.cpu.throttledPercent =
      periods === null || throttled === null ? null : periods === 0 ? 0 : (throttled / periods) * 100;
  }
  // The same object: carried over from an older tick (a reader's focus), its rates stand.
  if (c.io && p.io && c.io !== p.io) ioRates(c.io, p.io, seconds);
  networkRates(c.network, p.network, seconds);
}

/** Per-device and total io rates of `now` against `before`, `seconds` apart (mutates now). */
export function ioRates(now: IoStats, before: IoStats, seconds: number): void {
  let read = 0;
  let write = 0;
  let matched = false;
  for (const d of now.devices) {
    const pd = before.devices.find((x) => x.major === d.major && x.minor === d.minor);
    if (!pd) continue;
    matched = true;
    d.readBytesPerSecond = perSecond(d.readBytes, pd.readBytes, seconds);
    d.writeBytesPerSecond = perSecond(d.writeBytes, pd.writeBytes, seconds);
    d.readOpsPerSecond = perSecond(d.readOps, pd.readOps, seconds);
    d.writeOpsPerSecond = perSecond(d.writeOps, pd.writeOps, seconds);
    read += d.readBytesPerSecond ?? 0;
    write += d.writeBytesPerSecond ?? 0;
  }
  // No device seen twice: no io rate to speak of (a cgroup without io has zero devices).
  now.readBytesPerSecond = matched || now.devices.length === 0 ? read : null;
  now.writeBytesPerSecond = matched || now.devices.length === 0 ? write : null;
}

function networkRates(now: NetworkInterface[] | null, before: NetworkInterface[] | null, seconds: number): void {
  if (!now || !before) return;
  for (const i of now) {
    const pi = before.find((x) => x.interface === i.interface);
    if (!pi) continue;
    i.rxBytesPerSecond = perSecond(i.rxBytes, pi.rxBytes, seconds);
    i.txBytesPerSecond = perSecond(i.txBytes, pi.txBytes, seconds);
  }
}

/** Fills cur's rate fields from prev (mutates cur). */
export function applyRates(prev: Snapshot | null, cur: Snapshot): void {
  if (!prev) return;
  const seconds = cur.monotonicSeconds - prev.monotonicSeconds;
  if (seconds <= 0) return;
  const hostCores = perSecond(cur.host.cpuUsageSeconds, prev.host.cpuUsageSeconds, seconds);
  cur.host.cpuPercent = hostCores === null ? null : hostCores * 100;
  networkRates(cur.host.network, prev.host.network, seconds);
  // Both lists are in the tree's order, so cgroup i's previous container is
  // nearly always the next one there: looked up by id only past a cgroup
  // added or gone (no map of every id built per tick).
  const previous = prev.containers;
  let indexOf: Map<string, number> | null = null;
  let j = 0;
  for (const c of cur.containers) {
    if (j >= previous.length || previous[j].id !== c.id) {
      indexOf ??= new Map(previous.map((x, k) => [x.id, k]));
      const k = indexOf.get(c.id);
      if (k === undefined) continue;
      j = k;
    }
    const p = previous[j++];
    if (p.inode === c.inode) containerRates(c, p, seconds);
  }
}
