// The fleet benchmark's TSDB blocks, built once and kept outside the repo
// under /var/tmp (TSTOP_FLEET_CACHE overrides) so that a second run skips the
// generation and promtool's backfill (minutes for 1.65 million series):
//
//   tstop-fleet-bench-<hash>/        the generated fleet: one block + meta.json
//     keyed on the shape, the generator's source and promtool's version
//   tstop-fleet-bench-<hash>/rules-<hash>/rule-<i>/   each recording rule's
//     block, keyed on the rules file too (`promtool tsdb create-blocks-from
//     rules` against a Prometheus serving the fleet and the rules before it)
//
// The rules are evaluated one after the other just after the fleet's last
// sample, so no two blocks overlap: Prometheus serves them without
// compacting (a vertical compaction of 1.65 million series would run during
// the bench).
// Each is built in a .tmp dir and renamed into place when complete.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  backfill,
  FAMILIES_SOURCE,
  SAMPLE_STEP_SECONDS,
  SERIES_PER_CONTAINER,
  writeOpenMetrics,
  type FleetShape,
} from './fleet-data.js';
import { blockDirs } from './fleet-prometheus.js';

export interface FleetData {
  /** The cache dir; its blocks are the fleet. */
  dir: string;
  /** The time of the fleet's last sample (epoch s). */
  endSeconds: number;
  series: number;
  samples: number;
  openMetricsBytes: number;
  generateSeconds: number;
  backfillSeconds: number;
  /** Whether this run found it in the cache. */
  cached: boolean;
}

const hash = (parts: unknown[]): string =>
  crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);

function promtoolVersion(): string {
  return execFileSync('promtool', ['--version'], { encoding: 'utf8' }).split('\n')[0];
}

export function cacheRoot(): string {
  return process.env.TSTOP_FLEET_CACHE ?? '/var/tmp';
}

/** The fleet's blocks for this shape: from the cache, or generated and backfilled into it. */
export async function fleetData(
  shape: Omit<FleetShape, 'endSeconds' | 'firstHost'>,
  log: (s: string) => void,
): Promise<FleetData> {
  const key = hash([shape, FAMILIES_SOURCE, writeOpenMetrics.toString(), promtoolVersion()]);
  const dir = path.join(cacheRoot(), `tstop-fleet-bench-${key}`);
  const metaFile = path.join(dir, 'meta.json');
  if (fs.existsSync(metaFile))
    return { ...(JSON.parse(fs.readFileSync(metaFile, 'utf8')) as FleetData), dir, cached: true };
  log(`fleet: no cached data at ${dir}: generating and backfilling (minutes)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    // The last sample a minute ago, on the sample step.
    const endSeconds = Math.floor((Date.now() / 1000 - 60) / SAMPLE_STEP_SECONDS) * SAMPLE_STEP_SECONDS;
    const om = path.join(tmp, 'fleet.om');
    const t0 = performance.now();
    const samples = await writeOpenMetrics(om, { ...shape, endSeconds });
    const openMetricsBytes = fs.statSync(om).size;
    const t1 = performance.now();
    // One promtool, one block: two parts would make overlapping blocks that Prometheus then merges.
    await backfill(om, tmp);
    fs.rmSync(om);
    const t2 = performance.now();
    const meta = {
      endSeconds,
      series: shape.hosts * shape.containersPerHost * SERIES_PER_CONTAINER + shape.hosts * 3,
      samples,
      openMetricsBytes,
      generateSeconds: (t1 - t0) / 1000,
      backfillSeconds: (t2 - t1) / 1000,
    };
    fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 1) + '\n');
    fs.renameSync(tmp, dir);
    return { ...meta, dir, cached: false };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export const RULE_INTERVAL_SECONDS = 5;

/**
 * Rule i's evaluation window, after the fleet's last sample and the rules
 * before it (one or two evaluations): its block overlaps no other, and it
 * reads the rules before it as Prometheus's rule groups do.
 */
export function ruleWindow(endSeconds: number, i: number): { start: number; end: number } {
  const start = endSeconds + 1 + 2 * RULE_INTERVAL_SECONDS * i;
  return { start, end: start + 2 * RULE_INTERVAL_SECONDS - 1 };
}

/** The bench's query time: after the rules' evaluations, the fleet's samples still in the 1m rate window. */
export function queryTime(endSeconds: number, rules: number): number {
  return ruleWindow(endSeconds, rules).start + 1;
}

/**
 * The cached blocks of `rulesFile`'s recording rules evaluated on the fleet,
 * one dir per rule; built if missing, rule by rule: promtool evaluates a
 * rule on the Prometheus at `url`, whose `reload` (given the new rule's
 * block dir) restarts it with that block, for the next rule to read.
 */
export async function ruleBlocks(
  data: FleetData,
  rulesFile: string,
  url: string,
  reload: (blockDir: string) => Promise<string>,
): Promise<{ dirs: string[]; seconds: number; cached: boolean }> {
  const text = fs.readFileSync(rulesFile, 'utf8');
  const key = hash([text, promtoolVersion(), RULE_INTERVAL_SECONDS]);
  const dir = path.join(data.dir, `rules-${key}`);
  const groups = (YAML.parse(text) as { groups: { name: string; rules: { record?: string }[] }[] }).groups;
  const rules = groups.flatMap((g) => g.rules.filter((r) => r.record).map((r) => ({ group: g.name, rule: r })));
  const dirsIn = (d: string): string[] => rules.map((_, i) => path.join(d, `rule-${i}`));
  if (fs.existsSync(path.join(dir, 'done'))) return { dirs: dirsIn(dir), seconds: 0, cached: true };
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const t0 = performance.now();
  try {
    for (const [i, { group, rule }] of rules.entries()) {
      const out = dirsIn(tmp)[i];
      const file = path.join(tmp, `rule-${i}.yml`);
      fs.writeFileSync(file, YAML.stringify({ groups: [{ name: group, rules: [rule] }] }));
      const w = ruleWindow(data.endSeconds, i);
      await run('promtool', [
        'tsdb',
        'create-blocks-from',
        'rules',
        `--url=${url}`,
        `--start=${w.start}`,
        `--end=${w.end}`,
        `--eval-interval=${RULE_INTERVAL_SECONDS}s`,
        `--output-dir=${out}`,
        '--quiet',
        file,
      ]);
      if (blockDirs(out).length === 0) throw new Error(`promtool wrote no block for ${rule.record}`);
      url = await reload(out);
    }
    fs.writeFileSync(path.join(tmp, 'done'), '');
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  // The blocks of earlier versions of the rules file are of no more use.
  for (const old of fs.readdirSync(data.dir)) {
    if (/^rules-[0-9a-f]+$/.test(old) && old !== path.basename(dir))
      fs.rmSync(path.join(data.dir, old), { recursive: true });
  }
  return { dirs: dirsIn(dir), seconds: (performance.now() - t0) / 1000, cached: false };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${out}`))));
  });
}
