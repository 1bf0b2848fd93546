// record (seek): `snapshot --at` on a 7-day store of 1,000 cgroups at 5 s.
// The store is generated, not sampled: 120,960 samples through the writer
// would take hours on the shared host. The first UNIQUE_HOURS hours are
// encoded sample by sample as the writer does (columns.ts: a new encoder per
// segment, a segment per hour, its roll for --retain 7d; a key frame at each
// segment start and after every 60 deltas; the fixture's real samples in
// turn, each with its own time), each segment with its index; the rest of
// the 7 days are those hours' records re-framed: the same payloads under
// headers with the time shifted by whole multiples of UNIQUE_HOURS (CRCs
// recomputed, indexes written). A seek does the same work on a copy as on an
// original (find the segment by name, read its index, read and check the
// block from its key frame to the sample, decode it); only the time inside a
// copied payload names the original hour, which the check below allows for.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
import type { Snapshot } from '../src/model/types.js';
import { median } from './collect.js';
import { tstopBin } from './export-process.js';

const INTERVAL_MS = 5000;
const HOUR_MS = 3_600_000;
const KEYFRAME_EVERY = 60;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const UNIQUE_HOURS = 2;

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
  const turnSeconds = template.at(-1)!.monotonicSeconds - template[0].monotonicSeconds + 0.05;
  const originals: Buffer[] = [];
  for (let h = 0; h < hours; h++) {
    const segStartMs = startMs + h * HOUR_MS;
    let file: Buffer;
    if (h < UNIQUE_HOURS) {
      // As the writer does: a new encoder per segment, a key frame first and after every 60 deltas.
      const encoder = new ColumnEncoder();
      const parts: Buffer[] = [segmentHeader(INTERVAL_MS)];
      let bytes = parts[0].length;
      let keyOffset = 0;
      for (let k = 0; k < samplesPerHour; k++) {
        const i = h * samplesPerHour + k;
        const original = template[i % template.length];
        const timeMs = startMs + i * INTERVAL_MS;
        const s: Snapshot = {
          ...original,
          timestamp: new Date(timeMs).toISOString(),
          monotonicSeconds: original.monotonicSeconds + Math.floor(i / template.length) * turnSeconds,
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

export function seekBench(real: Snapshot[], days = Number(process.env.TSTOP_BENCH_SEEK_DAYS ?? 7)): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-seek-'));
  try {
    const cgroups = real[0].containers.length;
    // Cgroups come and go between the fixture's samples (other jobs on the host): any template sample's count is right.
    const counts = new Set(real.map((r) => r.containers.length));
    const startMs = Date.now() - days * 86_400_000;
    const t0 = performance.now();
    const samples = generateStore(dir, real, startMs, days);
    const genSeconds = (performance.now() - t0) / 1000;
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
        (((at - Date.parse(s.timestamp)) % (UNIQUE_HOURS * HOUR_MS)) + UNIQUE_HOURS * HOUR_MS) %
        (UNIQUE_HOURS * HOUR_MS);
      if (behindMs >= INTERVAL_MS || !counts.has(s.containers.length))
        throw new Error(`seek to ${at} returned ${s.timestamp} with ${s.containers.length} cgroups`);
    }
    // The whole command, node start-up included.
    const cli: number[] = [];
    for (let k = 0; k < 8; k++) {
      const at = randomTime();
      const s0 = performance.now();
      const r = spawnSync(tstopBin(), ['snapshot', '--store', dir, '--at', `@${at / 1000}`, '--json', '--all'], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      cli.push(performance.now() - s0);
      if (r.status !== 0) throw new Error(`tstop snapshot --at failed: ${r.stderr}`);
    }
    const perCgroupSample = bytes / samples / cgroups;
    return [
      `record seek: ${days}-day store of ${cgroups} cgroups at 5 s (${samples} samples, ${segments} segments, ` +
        `${(bytes / 1e6).toFixed(0)} MB, ${perCgroupSample.toFixed(1)} bytes per cgroup-sample) generated in ${genSeconds.toFixed(0)} s ` +
        `(${UNIQUE_HOURS} hours encoded, the rest re-framed copies)`,
      `record seek: StoreReader.at(random time), fresh reader each: median ${median(seeks).toFixed(0)} ms, ` +
        `p95 ${quantile(seeks, 0.95).toFixed(0)} ms, max ${Math.max(...seeks).toFixed(0)} ms (60 seeks)`,
      `record seek: tstop snapshot --at @T --json --all (the whole command, node start-up and JSON output included): ` +
        `median ${median(cli).toFixed(0)} ms, max ${Math.max(...cli).toFixed(0)} ms (8 runs)`,
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
