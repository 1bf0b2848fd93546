// tstop's side of the docker lane: the real CLI pointed at the lane's engine
// (--docker-root and the runc root under its exec root), and parsers for
// what `docker stats` prints.

import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { runTstop, type RunResult } from '../helpers/limit.js';
import { docker, dockerOk, tstopRootFlags, type EngineInfo } from './engine.js';

export const MiB = 1024 * 1024;

export function tstop(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return runTstop(args, env);
}

/** `tstop snapshot --json` (the last tick when count > 1), with the lane's roots unless `roots` is false. */
export async function snapshot(info: EngineInfo, extra: string[] = [], roots = true): Promise<Snapshot> {
  const r = await tstop(['snapshot', '--json', ...(roots ? tstopRootFlags(info) : []), ...extra]);
  if (r.code !== 0) throw new Error(`tstop snapshot: exit ${r.code}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Snapshot;
}

export function containerOf(snap: Snapshot, fullId: string): ContainerSnapshot {
  const c = snap.containers.find((x) => x.id === `/docker/${fullId}`);
  if (!c) throw new Error(`/docker/${fullId} not in tstop's snapshot (${snap.containers.map((x) => x.id).join(', ')})`);
  return c;
}

/** `docker run -d ARGS` → the full container id. */
export async function runContainer(info: EngineInfo, args: string[]): Promise<string> {
  return dockerOk(info, ['run', '-d', ...args]);
}

/** Waits until `path` exists inside the container (testload's --ready file). */
export async function waitReady(
  info: EngineInfo,
  name: string,
  file = '/tmp/ready',
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await docker(info, ['exec', name, 'test', '-e', file])).code !== 0) {
    if (Date.now() > deadline) throw new Error(`${name}: ${file} did not appear in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB, TiB: 1024 * 1024 * MiB };
const DECIMAL: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** docker's units.BytesSize ("64.55MiB") or HumanSize ("1.2MB") → bytes. */
export function parseDockerSize(text: string): number {
  const m = /^([\d.]+)\s*([A-Za-z]+)$/.exec(text.trim());
  if (!m) throw new Error(`not a docker size: '${text}'`);
  const mult = UNITS[m[2]] ?? DECIMAL[m[2]];
  if (mult === undefined) throw new Error(`unknown unit in '${text}'`);
  return Number(m[1]) * mult;
}

export interface DockerStatsLine {
  ID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

export async function dockerStats(info: EngineInfo, names: string[]): Promise<Map<string, DockerStatsLine>> {
  const out = await dockerOk(info, ['stats', '--no-stream', '--format', '{{json .}}', ...names]);
  const map = new Map<string, DockerStatsLine>();
  for (const line of out.split('\n').filter(Boolean)) {
    const s = JSON.parse(line) as DockerStatsLine;
    map.set(s.Name, s);
  }
  return map;
}

/** The engine API's stats document (the fields the lane compares). */
export interface EngineStats {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  memory_stats: { usage?: number; max_usage?: number; limit?: number; stats?: Record<string, number> };
  cpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage: number; online_cpus: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number; online_cpus?: number };
  blkio_stats: { io_service_bytes_recursive: { major: number; minor: number; op: string; value: number }[] | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number; rx_packets: number; tx_packets: number }>;
}

/** CPU % as docker stats computes it: container delta / system delta × online CPUs. */
export function dockerCpuPercent(s: EngineStats): number {
  const cpu = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const system = s.cpu_stats.system_cpu_usage - (s.precpu_stats.system_cpu_usage ?? 0);
  return system > 0 ? (cpu / system) * s.cpu_stats.online_cpus * 100 : 0;
}
