// record (seek): `snapshot --at` on a 7-day store of 1,000 cgroups at 5 s.
// The store is generated, not sampled: 120,960 samples through the writer
// would take hours on the shared host. The first UNIQUE_HOURS hours are
// encoded sample by sample as the writer does (columns.ts: a new encoder per
// segment, a segment per hour, its roll for --retain 7d; a key frame at each
// segment start and after every KEYFRAME_EVERY deltas; the fixture's real samples in
// turn, each with its own time), each segment with its index; the rest of
// the 7 days are those hours' records re-framed: the same payloads under
// headers with the time shifted by whole multiples of UNIQUE_HOURS (CRCs
// recomputed, indexes written). A seek does the same work on a copy as on an
// original (find the segment by name, read its index, read and check the
// block from its key frame to the sample, decode it); only the time inside a
// copied payload names the original hour, which the check below allows for.
// The fixture's first sample (the collector's first: no rates yet, so every
// cgroup's template differs from the next sample's) is the store's first,
// as a recorder's start is; the turns repeat the others, so a turn does not
// restart the recorder every 10 minutes (which changed a thousand templates
// twice per turn, a cost a real 7-day recording pays once per restart).

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { ColumnEncoder } from '../src/record/columns.js';
import {
  encodeRecord,
  KIND_DELTA,
  KIND_KEYFRAME,
  scanSegment,
  SEGMENT_HEADER_BYTES,
  segmentHeader,
  segmentName,
} from '../src/record/format.js';
import { encodeIndex, indexName } from '../src/record/index-file.js';
import { StoreReader } from '../src/record/reader.js';
import { KEYFRAME_EVERY } from '../src/record/store.js';
import type { Snapshot } from '../src/model/types.js';
import { Collector } from '../src/collect/collector.js';
import { median } from './collect.js';
import { createBenchCgroups, type BenchCgroups } from './fixture.js';
import { loadAverages, tstopBin } from './export-process.js';

const INTERVAL_MS = 5000;
const HOUR_MS = 3_600_000;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const UNIQUE_HOURS = 2;
/** The generator's version: a cached store made by another is made again. */
const GENERATOR = 2;

function writeSegment(dir: string, startMs: number, file: Buffer): void {
  fs.writeFileSync(path.join(dir, segmentName(startMs)), file);
  fs.writeFileSync(path.join(dir, indexName(segmentName(startMs))), encodeIndex(scanSegment(file).records));
}

/**
 * Writes `days` of samples at 5 s: the template's samples in turn, each with
 * its own time (the monotonic clock carried on across turns); returns the sample count.
 */
function generateStore(dir: string, template: Snapshot[], startMs: number, days: number): number {
  const samplesPerHour = HOUR_MS / INTERVAL_MS;
  const hours = days * 24;
  const turn = template.slice(1);
  const turnSeconds = turn.at(-1)!.monotonicSeconds - turn[0].monotonicSeconds + INTERVAL_MS / 1000;
  const originals: Buffer[] = [];
  for (let h = 0; h < hours; h++) {
    const segStartMs = startMs + h * HOUR_MS;
    let file: Buffer;
    if (h < UNIQUE_HOURS) {
      // As the writer does: a new encoder per segment, a key frame first and after every KEYFRAME_EVERY deltas.
      const encoder = new ColumnEncoder();
      const parts: Buffer[] = [segmentHeader(INTERVAL_MS)];
      let bytes = parts[0].length;
      let keyOffset = 0;
      for (let k = 0; k < samplesPerHour; k++) {
        const i = h * samplesPerHour + k;
        const original = i === 0 ? template[0] : turn[(i - 1) % turn.length];
        const timeMs = startMs + i * INTERVAL_MS;
        const s: Snapshot = {
          ...original,
          timestamp: new Date(timeMs).toISOString(),
          monotonicSeconds: original.monotonicSeconds + Math.floor(Math.max(0, i - 1) / turn.length) * turnSeconds,
        };
        const key = k % (KEYFRAME_EVERY + 1) === 0;
        if (key) keyOffset = bytes;
        const record = encodeRecord(timeMs, key ? KIND_KEYFRAME : KIND_DELTA, keyOffset, encoder.encode(s, key));
        parts.push(record);
        bytes += record.length;
      }
      file = Buffer.concat(parts);
      originals.push(file);
    } else {
      // A copy of an original hour, its records' times shifted.
      const original = originals[h % UNIQUE_HOURS];
      const shiftMs = (h - (h % UNIQUE_HOURS)) * HOUR_MS;
      const parts: Buffer[] = [original.subarray(0, SEGMENT_HEADER_BYTES)];
      for (const r of scanSegment(original).records)
        parts.push(encodeRecord(r.timestampMs + shiftMs, r.kind, r.keyOffset, r.payload));
      file = Buffer.concat(parts);
    }
    writeSegment(dir, segStartMs, file);
  }
  return hours * samplesPerHour;
}

function storeBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

/** Where the seek bench keeps its generated stores and real samples (TSTOP_SEEK_CACHE overrides). */
function cacheRoot(): string {
  return process.env.TSTOP_SEEK_CACHE ?? '/var/tmp';
}

/** The files whose code writes the store's bytes: a store generated by other code is generated again. */
const ENCODER_FILES = ['columns.js', 'templates.js', 'codec.js', 'format.js', 'index-file.js', 'store.js'];

function storeKey(samplesFile: string, days: number): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const record = path.join(here, '../src/record');
  const st = fs.statSync(samplesFile);
  const h = crypto.createHash('sha256');
  h.update(
    JSON.stringify([GENERATOR, days, UNIQUE_HOURS, KEYFRAME_EVERY, INTERVAL_MS, st.size, st.mtimeMs, samplesFile]),
  );
  for (const f of ENCODER_FILES) h.update(fs.readFileSync(path.join(record, f)));
  return h.digest('hex').slice(0, 16);
}

/** The real samples of the fixture: collected once (`collect`) and kept as gzipped JSON Lines. */
export async function realSamples(
  cgroups: number,
  collect: () => Promise<Snapshot[]>,
): Promise<{ file: string; samples: Snapshot[] }> {
  const file = path.join(cacheRoot(), `tstop-seek-samples-${cgroups}.jsonl.gz`);
  if (!fs.existsSync(file)) {
    const collected = await collect();
    const tmp = `${file}.tmp-${process.pid}`;
    const gz = zlib.createGzip();
    const out = fs.createWriteStream(tmp);
    gz.pipe(out);
    // One line per sample: a 1,000-cgroup sample is megabytes of JSON, all of them more than a string holds.
    for (const s of collected) gz.write(`${JSON.stringify(s)}\n`);
    gz.end();
    await new Promise<void>((resolve, reject) => out.once('close', resolve).once('error', reject));
    fs.renameSync(tmp, file);
    return { file, samples: collected };
  }
  const samples: Snapshot[] = [];
  const lines = readline.createInterface({
    input: fs.createReadStream(file).pipe(zlib.createGunzip()),
    crlfDelay: Infinity,
  });
  for await (const line of lines) if (line) samples.push(JSON.parse(line) as Snapshot);
  return { file, samples };
}

/**
 * `ticks` samples of this host with a fixture of `cgroups` (made here unless
 * given), 5 s apart in their timestamps. Other runs' bench and test trees
 * (other helpers' on a shared host) are left out: the store has the fixture's shape.
 */
export async function collectRealSamples(cgroups: number, given?: BenchCgroups, ticks = 120): Promise<Snapshot[]> {
  const fixture = given ?? (await createBenchCgroups(cgroups));
  try {
    const others = (id: string): boolean =>
      /^\/tstop-(bench|test)-/.test(id) && id !== fixture.parent && !id.startsWith(`${fixture.parent}/`);
    const collector = new Collector({ watch: true });
    const real: Snapshot[] = [];
    for (let t = 0; t < ticks; t++) {
      const s = collector.collect();
      s.timestamp = new Date(1_767_000_000_000 + t * 5000).toISOString();
      s.containers = s.containers.filter((c) => !others(c.id));
      real.push(s);
    }
    collector.close();
    return real;
  } finally {
    if (!given) await fixture.cleanup();
  }
}

interface SeekStore {
  dir: string;
  startMs: number;
  samples: number;
  genSeconds: number;
  cached: boolean;
}

/** The 7-day store of these samples: from the cache, or generated into it (a .tmp dir renamed when complete). */
function seekStore(samplesFile: string, real: Snapshot[], days: number): SeekStore {
  const dir = path.join(cacheRoot(), `tstop-seek-bench-${storeKey(samplesFile, days)}`);
  const metaFile = path.join(dir, 'meta.json');
  if (fs.existsSync(metaFile))
    return { ...(JSON.parse(fs.readFileSync(metaFile, 'utf8')) as SeekStore), dir, cached: true };
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  // Whole hours back from now, so the store's newest sample is recent (as a recorder's is).
  const startMs = Math.floor((Date.now() - days * 86_400_000) / HOUR_MS) * HOUR_MS;
  const t0 = performance.now();
  const samples = generateStore(tmp, real, startMs, days);
  const genSeconds = (performance.now() - t0) / 1000;
  // meta.json is not a segment: readers ignore it.
  fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify({ startMs, samples, genSeconds }));
  fs.renameSync(tmp, dir);
  return { dir, startMs, samples, genSeconds, cached: false };
}

export function seekBench(
  real: Snapshot[],
  samplesFile: string,
  days = Number(process.env.TSTOP_BENCH_SEEK_DAYS ?? 7),
): string[] {
  const cgroups = real[0].containers.length;
  // Cgroups come and go between the fixture's samples (other jobs on the host): any template sample's count is right.
  const counts = new Set(real.map((r) => r.containers.length));
  const { dir, startMs, samples, genSeconds, cached } = seekStore(samplesFile, real, days);
  const bytes = storeBytes(dir);
  const segments = fs.readdirSync(dir).filter((f) => f.endsWith('.tsr')).length;
  const span = days * 86_400_000;
  const randomTime = (): number => startMs + Math.floor(Math.random() * span);

  // In process, as `snapshot --at` runs it: a fresh reader per seek (no cache carried over).
  const seeks: number[] = [];
  for (let k = 0; k < 60; k++) {
    const at = randomTime();
    const s0 = performance.now();
    const s = StoreReader.open(dir).at(at);
    seeks.push(performance.now() - s0);
    // The sample at or before `at` (a copied hour's payload names its original hour).
    const behindMs =
      (((at - Date.parse(s.timestamp)) % (UNIQUE_HOURS * HOUR_MS)) + UNIQUE_HOURS * HOUR_MS) % (UNIQUE_HOURS * HOUR_MS);
    if (behindMs >= INTERVAL_MS || !counts.has(s.containers.length))
      throw new Error(`seek to ${at} returned ${s.timestamp} with ${s.containers.length} cgroups`);
  }
  // The whole command, node start-up included: wall time, and its CPU (user + system, from the child's rusage).
  const cli: number[] = [];
  const cliCpu: number[] = [];
  // What else the host did during the runs: the bench's own CPU, and its page cache's unwritten bytes (a store
  // generated just now is ~256 MB of dirty pages, written back ~30 s later: measured, it costs a seek nothing).
  const ownCpu0 = process.cpuUsage();
  const pages0 = dirtyPagesKb();
  for (let k = 0; k < Number(process.env.TSTOP_BENCH_SEEK_RUNS ?? 20); k++) {
    const at = randomTime();
    const s0 = performance.now();
    // sh's `times` prints its children's user and system time (to stderr here: stdout is the command's JSON).
    const args = ['snapshot', '--store', dir, '--at', `@${at / 1000}`, '--json', '--all'];
    const r = spawnSync('sh', ['-c', '"$@" || exit; times >&2', 'sh', tstopBin(), ...args], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    cli.push(performance.now() - s0);
    if (r.status !== 0) throw new Error(`tstop snapshot --at failed: ${r.stderr}`);
    cliCpu.push(childrenCpuMs(r.stderr));
  }
  const ownCpu = process.cpuUsage(ownCpu0);
  const pages1 = dirtyPagesKb();
  const perCgroupSample = bytes / samples / cgroups;
  return [
    `record seek: ${days}-day store of ${cgroups} cgroups at 5 s (${samples} samples, ${segments} segments, ` +
      `${(bytes / 1e6).toFixed(0)} MB, ${perCgroupSample.toFixed(1)} bytes per cgroup-sample) ` +
      `${cached ? `cached in ${dir}, ` : ''}generated in ${genSeconds.toFixed(0)} s ` +
      `(${UNIQUE_HOURS} hours encoded, the rest re-framed copies)`,
    `record seek: StoreReader.at(random time), fresh reader each: median ${median(seeks).toFixed(0)} ms, ` +
      `p95 ${quantile(seeks, 0.95).toFixed(0)} ms, max ${Math.max(...seeks).toFixed(0)} ms (60 seeks)`,
    `record seek: tstop snapshot --at @T --json --all (the whole command, node start-up and JSON output included): ` +
      `wall median ${median(cli).toFixed(0)} ms, p95 ${quantile(cli, 0.95).toFixed(0)} ms, max ${Math.max(...cli).toFixed(0)} ms; ` +
      `CPU median ${median(cliCpu).toFixed(0)} ms, p95 ${quantile(cliCpu, 0.95).toFixed(0)} ms (${cli.length} runs, ` +
      `load average ${loadAverages()})`,
    `record seek: during those runs: the bench's own CPU ${((ownCpu.user + ownCpu.system) / 1000).toFixed(0)} ms; ` +
      `the host's dirty pages ${(pages0.dirty / 1024).toFixed(0)} -> ${(pages1.dirty / 1024).toFixed(0)} MB, ` +
      `under writeback ${(pages0.writeback / 1024).toFixed(0)} -> ${(pages1.writeback / 1024).toFixed(0)} MB (/proc/meminfo)`,
  ];
}

/** /proc/meminfo's Dirty and Writeback (kB). */
function dirtyPagesKb(): { dirty: number; writeback: number } {
  const text = fs.readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { dirty: kb('Dirty'), writeback: kb('Writeback') };
}

/** The children's user + system time (ms) from the last line of sh's `times` ("0m0.450000s 0m0.120000s"). */
function childrenCpuMs(timesOutput: string): number {
  const last = timesOutput.trim().split('\n').at(-1) ?? '';
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(last);
  if (!m) throw new Error(`no times output in: ${timesOutput}`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

// `node dist/bench/record-seek.js`: this bench alone, on the cached real samples (made once with a 1,000-cgroup fixture).
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const cgroups = Number(process.env.TSTOP_BENCH_SEEK_CGROUPS ?? 1000);
  const { file, samples } = await realSamples(cgroups, () => collectRealSamples(cgroups));
  for (const line of seekBench(samples, file)) console.log(line);
}
