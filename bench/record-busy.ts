// The record bench's busy containers: the shapes of syntheticSnapshot, with
// counters that move every sample the way a busy container's do (seeded, so
// every run writes the same bytes). Each container has its own load level; at
// each tick its CPU time grows by that level times the interval with +-30 %
// jitter (microseconds, as cpu.stat usage_usec), split user/system; memory
// walks in whole pages (usage, anon, file, inactive, mapped, kernel, the peak
// follows), page faults grow with the load, a major fault now and then; one
// disk's read/write bytes (in 4 KiB) and ops grow on most ticks; the network
// interface's bytes and packets grow; PSI averages drift and the stall total
// grows; a process starts or exits in 2 % of ticks. Constants stay constant
// (limits, names, capabilities), and rates come from the counters through
// the model's applyRates, as the collector computes them.

import { blankIoDevice } from '../collectors/io.js';
import { applyRates } from '../src/model/rates.js';
import { syntheticSnapshot } from '../src/model/samples.js';
import type { ContainerSnapshot, PressureLine, Snapshot } from '../src/model/types.js';

const PAGE = 4096;

/** mulberry32: a small seeded generator, so the bench's bytes are the same each run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function jitter(rnd: () => number, spread = 0.3): number {
  return 1 - spread + 2 * spread * rnd();
}

function drift(rnd: () => number, line: PressureLine, load: number, seconds: number): void {
  const target = Math.min(100, load * 20);
  line.avg10 = Math.round(Math.max(0, line.avg10 + (target * jitter(rnd, 0.5) - line.avg10) * 0.5) * 100) / 100;
  line.avg60 = Math.round((line.avg60 + (line.avg10 - line.avg60) * 0.1) * 100) / 100;
  line.avg300 = Math.round((line.avg300 + (line.avg60 - line.avg300) * 0.02) * 100) / 100;
  line.totalSeconds = Math.round((line.totalSeconds + (line.avg10 / 100) * seconds * jitter(rnd)) * 1e6) / 1e6;
}

function step(rnd: () => number, c: ContainerSnapshot, load: number, seconds: number): void {
  const cpu = c.cpu!;
  const usedUs = Math.round(load * seconds * 1e6 * jitter(rnd));
  const userUs = Math.round(usedUs * (0.7 + 0.2 * rnd()));
  cpu.usageSeconds = Math.round(cpu.usageSeconds! * 1e6 + usedUs) / 1e6;
  cpu.userSeconds = Math.round(cpu.userSeconds! * 1e6 + userUs) / 1e6;
  cpu.systemSeconds = Math.round(cpu.systemSeconds! * 1e6 + usedUs - userUs) / 1e6;
  if (cpu.quotaCores) {
    cpu.periods! += Math.round(seconds * 10);
    const throttled = load > cpu.quotaCores * 0.8 ? Math.round(seconds * 10 * rnd() * 0.3) : 0;
    cpu.throttledPeriods! += throttled;
    cpu.throttledSeconds = Math.round((cpu.throttledSeconds! + throttled * 0.01 * rnd()) * 1e6) / 1e6;
  }
  const m = c.memory!;
  const pages = (bytes: number): number => Math.round(bytes / PAGE) * PAGE;
  const walk = (bytes: number, spread: number): number => Math.max(PAGE, pages(bytes * (1 + spread * (rnd() - 0.5))));
  m.anonBytes = walk(m.anonBytes!, 0.02);
  m.fileBytes = walk(m.fileBytes!, 0.01);
  m.inactiveFileBytes = Math.min(m.fileBytes, walk(m.inactiveFileBytes!, 0.02));
  m.mappedFileBytes = Math.min(m.fileBytes, walk(m.mappedFileBytes!, 0.005));
  m.kernelBytes = walk(m.kernelBytes!, 0.002);
  m.usageBytes = m.anonBytes + m.fileBytes + m.kernelBytes;
  m.workingSetBytes = Math.max(0, m.usageBytes - m.inactiveFileBytes);
  m.maxUsageBytes = Math.max(m.maxUsageBytes!, m.usageBytes);
  m.pageFaults! += Math.round(load * seconds * 4000 * jitter(rnd, 0.5));
  if (rnd() < 0.05) m.majorPageFaults! += 1 + Math.floor(rnd() * 5);
  for (const d of c.io!.devices) {
    if (rnd() < 0.7) {
      const ops = Math.round(load * seconds * 40 * rnd());
      d.readOps += ops;
      d.readBytes += ops * PAGE * (1 + Math.floor(rnd() * 8));
    }
    const ops = Math.round(load * seconds * 20 * jitter(rnd, 0.8));
    d.writeOps += ops;
    d.writeBytes += ops * PAGE * (1 + Math.floor(rnd() * 4));
  }
  for (const i of c.network ?? []) {
    const rxPackets = Math.round(load * seconds * 800 * jitter(rnd, 0.6));
    const txPackets = Math.round(rxPackets * (0.6 + 0.4 * rnd()));
    i.rxPackets += rxPackets;
    i.txPackets += txPackets;
    i.rxBytes += rxPackets * (64 + Math.floor(rnd() * 1400));
    i.txBytes += txPackets * (64 + Math.floor(rnd() * 1400));
  }
  const psi = c.pressure!.memory!.some!;
  drift(rnd, psi, load, seconds);
  c.pids!.current = c.processes.length;
  if (rnd() < 0.02) {
    if (rnd() < 0.5 && c.processes.length > 1) c.processes.pop();
    else c.processes.push(c.processes.at(-1)! + 1 + Math.floor(rnd() * 50_000));
    c.pids!.current = c.processes.length;
  }
}

/** `ticks` samples of `n` busy containers, `intervalMs` apart, times from `startMs`. */
export function busySamples(n: number, ticks: number, intervalMs: number, startMs: number): Snapshot[] {
  const rnd = random(13);
  const seconds = intervalMs / 1000;
  const s = syntheticSnapshot(n, 0);
  const loads = s.containers.map(() => 0.05 + 1.5 * rnd() ** 2);
  for (const c of s.containers) {
    c.memory!.oomKills = 0;
    c.cpu!.periods = c.cpu!.quotaCores ? 0 : null;
    c.cpu!.throttledPeriods = c.cpu!.quotaCores ? 0 : null;
    c.cpu!.throttledSeconds = c.cpu!.quotaCores ? 0 : null;
    for (const k of ['usageBytes', 'anonBytes', 'fileBytes', 'inactiveFileBytes', 'mappedFileBytes'] as const)
      c.memory![k] = Math.round(c.memory![k]! / PAGE) * PAGE;
    c.io!.devices = [blankIoDevice(254, 0, 'vda')];
  }
  const out: Snapshot[] = [];
  let prev: Snapshot | null = null;
  for (let t = 0; t < ticks; t++) {
    const cur: Snapshot = structuredClone(prev ?? s);
    cur.timestamp = new Date(startMs + t * intervalMs).toISOString();
    cur.monotonicSeconds = 1000 + t * seconds;
    if (prev) {
      cur.containers.forEach((c, i) => step(rnd, c, loads[i], seconds));
      cur.host.cpuUsageSeconds = Math.round((cur.host.cpuUsageSeconds + seconds * 20 * jitter(rnd)) * 100) / 100;
      cur.host.memoryAvailableBytes = Math.round((cur.host.memoryAvailableBytes! * jitter(rnd, 0.01)) / 1024) * 1024;
    }
    for (const c of cur.containers) {
      c.cpu!.percent = null;
      c.cpu!.quotaPercent = null;
      c.cpu!.throttledPercent = null;
      c.io!.readBytesPerSecond = null;
      c.io!.writeBytesPerSecond = null;
      for (const d of c.io!.devices)
        d.readBytesPerSecond = d.writeBytesPerSecond = d.readOpsPerSecond = d.writeOpsPerSecond = null;
      for (const i of c.network ?? []) i.rxBytesPerSecond = i.txBytesPerSecond = null;
    }
    cur.host.cpuPercent = null;
    applyRates(prev, cur);
    out.push(cur);
    prev = cur;
  }
  return out;
}
