// Synthetic fleet data for the fleet benchmark: OpenMetrics text for H hosts
// × C containers, cAdvisor's container_* names plus tstop's tstop_* families,
// every series labelled as a scrape of a tstop exporter would be (instance,
// job, id, name, image), counters with a few samples 15 s apart ending at
// `endSeconds` (gauges with the last one only: an instant query reads no more);
// backfilled with `promtool tsdb create-blocks-from openmetrics` into a data
// dir a real Prometheus then serves.

import fs from 'node:fs';
import { once } from 'node:events';
import { spawn } from 'node:child_process';

export interface FleetShape {
  hosts: number;
  /** Number of the first host (a part of a fleet written by several files). */
  firstHost?: number;
  containersPerHost: number;
  /** Samples per series, SAMPLE_STEP_SECONDS apart. */
  samples: number;
  endSeconds: number;
  /** name and image on every series (as cAdvisor) rather than only on the two the identity query reads. */
  labelsOnAll?: boolean;
}

export const SAMPLE_STEP_SECONDS = 15;

type Kind = 'counter' | 'gauge';

/** Family → kind, extra labels and a value per (host, container, sample). */
const FAMILIES: [string, Kind, string, (h: number, c: number, k: number) => number][] = [
  ['container_cpu_usage_seconds_total', 'counter', 'cpu="total"', (h, c, k) => 1000 + c * 3 + k * ((c % 7) * 0.9)],
  ['container_cpu_user_seconds_total', 'counter', '', (h, c, k) => 700 + c * 2 + k * ((c % 7) * 0.6)],
  ['container_cpu_system_seconds_total', 'counter', '', (h, c, k) => 300 + c + k * ((c % 7) * 0.3)],
  ['container_cpu_cfs_periods_total', 'counter', '', (h, c, k) => 50_000 + k * 150],
  ['container_cpu_cfs_throttled_periods_total', 'counter', '', (h, c, k) => 100 + k * (c % 5)],
  ['container_cpu_cfs_throttled_seconds_total', 'counter', '', (h, c, k) => 10 + k * (c % 5) * 0.01],
  ['container_fs_reads_bytes_total', 'counter', 'device="/dev/vda"', (h, c, k) => 1e8 + k * c * 4096],
  ['container_fs_writes_bytes_total', 'counter', 'device="/dev/vda"', (h, c, k) => 2e8 + k * c * 8192],
  ['container_network_receive_bytes_total', 'counter', 'interface="eth0"', (h, c, k) => 5e8 + k * c * 1000],
  ['container_network_transmit_bytes_total', 'counter', 'interface="eth0"', (h, c, k) => 3e8 + k * c * 700],
  ['container_oom_events_total', 'counter', '', (h, c, k) => (c % 13 === 0 && k > 0 ? 1 : 0)],
  ['container_spec_cpu_quota', 'gauge', '', (h, c) => (c % 2 ? 100_000 * (1 + (c % 4)) : 0)],
  ['container_spec_cpu_period', 'gauge', '', () => 100_000],
  ['container_memory_usage_bytes', 'gauge', '', (h, c, k) => (64 + c * 8) * 2 ** 20 + k * 4096],
  ['container_memory_max_usage_bytes', 'gauge', '', (h, c) => (80 + c * 8) * 2 ** 20],
  ['container_memory_working_set_bytes', 'gauge', '', (h, c, k) => (60 + c * 8) * 2 ** 20 + k * 4096],
  ['container_memory_rss', 'gauge', '', (h, c) => (40 + c * 6) * 2 ** 20],
  ['container_memory_cache', 'gauge', '', (h, c) => (20 + c * 2) * 2 ** 20],
  ['container_memory_swap', 'gauge', '', () => 0],
  ['container_memory_mapped_file', 'gauge', '', (h, c) => (4 + c) * 2 ** 20],
  ['container_spec_memory_limit_bytes', 'gauge', '', (h, c) => (c % 3 ? 2 ** 30 : 0)],
  ['container_threads', 'gauge', '', (h, c) => 1 + (c % 40)],
  ['container_threads_max', 'gauge', '', () => 4096],
  ['container_processes', 'gauge', '', (h, c) => 1 + (c % 10)],
  ['container_start_time_seconds', 'gauge', '', (h, c) => 1.7e9 + h * 10 + c],
  ['container_last_seen', 'gauge', '', (h, c, k) => 1.7e9 + k],
  ['tstop_container_memory_high_bytes', 'gauge', '', (h, c) => (c % 4 ? 0 : 2 ** 29)],
  ['tstop_container_pids_limit', 'gauge', '', () => 1000],
  ['tstop_container_pressure_memory_waiting_avg10_ratio', 'gauge', '', (h, c) => (c % 9) / 100],
  ['tstop_container_pressure_memory_stalled_avg10_ratio', 'gauge', '', (h, c) => (c % 9) / 200],
  ['tstop_container_pressure_cpu_waiting_avg10_ratio', 'gauge', '', (h, c) => (c % 11) / 100],
  ['tstop_container_pressure_io_waiting_avg10_ratio', 'gauge', '', (h, c) => (c % 5) / 100],
];

const HOST_FAMILIES: [string, (h: number) => number][] = [
  ['up', () => 1],
  ['machine_cpu_cores', () => 32],
  ['machine_memory_bytes', () => 128 * 2 ** 30],
];

/** The families the fleet's identity query reads name and image from. */
const IDENTITY_FAMILIES = ['container_last_seen', 'container_memory_usage_bytes'];

export const SERIES_PER_CONTAINER = FAMILIES.length + 1; // + tstop_container_info

/** The tables as text (values' functions included): part of the benchmark cache's key. */
export const FAMILIES_SOURCE = JSON.stringify([
  FAMILIES.map(([n, k, e, v]) => [n, k, e, v.toString()]),
  HOST_FAMILIES.map(([n, v]) => [n, v.toString()]),
  IDENTITY_FAMILIES,
]);

export function instanceOf(h: number): string {
  return `host-${String(h).padStart(4, '0')}:9338`;
}

function containerId(h: number, c: number): string {
  return (h * 1000 + c).toString(16).padStart(12, '0') + 'abcdef0123456789'.repeat(3) + 'abcd';
}

/** Writes the OpenMetrics text (families contiguous, as the format requires); returns the number of samples. */
export async function writeOpenMetrics(file: string, shape: FleetShape): Promise<number> {
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 });
  let buffer = '';
  let samples = 0;
  const flush = async (): Promise<void> => {
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  const times = Array.from(
    { length: shape.samples },
    (_, k) => shape.endSeconds - (shape.samples - 1 - k) * SAMPLE_STEP_SECONDS,
  );
  const keyLabels: string[][] = [];
  const fullLabels: string[][] = [];
  const first = shape.firstHost ?? 0;
  // Labels by host index within this part (0-based); values and names by host number.
  for (let h = first; h < first + shape.hosts; h++) {
    const keys: string[] = [];
    const full: string[] = [];
    for (let c = 0; c < shape.containersPerHost; c++) {
      const key = `instance="${instanceOf(h)}",job="tstop",id="/docker/${containerId(h, c)}"`;
      keys.push(key);
      full.push(`${key},name="app-${c}-${h}",image="registry.example/app-${c % 20}:1.${c % 7}"`);
    }
    keyLabels.push(keys);
    fullLabels.push(full);
  }
  for (const [name, kind, extra, value] of FAMILIES) {
    const identity = shape.labelsOnAll || IDENTITY_FAMILIES.includes(name);
    const containerLabels = identity ? fullLabels : keyLabels;
    const typeName = kind === 'counter' ? name.replace(/_total$/, '') : name;
    buffer += `# TYPE ${typeName} ${kind}\n`;
    const more = extra ? ',' + extra : '';
    // Counters need every sample (rate); an instant query reads a gauge's last one only.
    const from = kind === 'counter' ? 0 : times.length - 1;
    for (let h = 0; h < shape.hosts; h++) {
      for (let c = 0; c < shape.containersPerHost; c++) {
        const prefix = `${name}{${containerLabels[h][c]}${more}} `;
        for (let k = from; k < times.length; k++) buffer += `${prefix}${value(first + h, c, k)} ${times[k]}\n`;
        samples += times.length - from;
      }
      if (buffer.length > 1 << 20) await flush();
    }
  }
  buffer += '# TYPE tstop_container_info gauge\n';
  for (let h = 0; h < shape.hosts; h++) {
    for (let c = 0; c < shape.containersPerHost; c++) {
      const prefix = `tstop_container_info{${keyLabels[h][c]},runtime="docker",container_id="${containerId(first + h, c)}"} 1`;
      buffer += `${prefix} ${times[times.length - 1]}\n`;
      samples++;
    }
    if (buffer.length > 1 << 20) await flush();
  }
  for (const [name, value] of HOST_FAMILIES) {
    buffer += `# TYPE ${name} gauge\n`;
    for (let h = 0; h < shape.hosts; h++) {
      const labels = `instance="${instanceOf(first + h)}",job="tstop"`;
      buffer += `${name}{${labels}} ${value(first + h)} ${times[times.length - 1]}\n`;
      samples++;
    }
  }
  buffer += '# EOF\n';
  await flush();
  out.end();
  await once(out, 'finish');
  return samples;
}

/** `promtool tsdb create-blocks-from openmetrics FILE DIR`; rejects with its output on failure. */
export function backfill(file: string, dataDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`promtool exited ${code}: ${log}`))));
  });
}
