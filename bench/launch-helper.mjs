#!/usr/bin/env node
// Launch latency of native/build/tstop-helper versus util-linux unshare, run
// side by side (interleaved) in the same process, as root:
//
//   tstop-helper  /bin/true in new pid/net/uts/ipc/mnt namespaces (fresh
//                 /proc and /sys, Docker's masks, caps, no_new_privs)
//   unshare --fork --pid --mount-proc --uts --ipc --net /bin/true
//
// With TSTOP_HELPER_TRACE=1 the helper prints CLOCK_MONOTONIC stamps, the
// same clock as process.hrtime, so each traced run is split into phases.
//
//   node bench/launch-helper.mjs [--runs 30] [--json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const helper = join(repo, 'native', 'build', 'tstop-helper');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 30;
const asJson = args.includes('--json');

if (process.getuid?.() !== 0) {
  console.error('bench/launch-helper.mjs: needs root (namespaces)');
  process.exit(1);
}
if (!existsSync(helper)) {
  console.error('bench/launch-helper.mjs: build the helper first: npm run build:native');
  process.exit(1);
}

// The spec as src/launcher/spec.ts writes it for these options (kept inline
// so the bench runs without a TypeScript build).
const DOCKER_CAPS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];
const MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
function spec(namespaces) {
  const r = ['version=1', 'mode=run', ...namespaces.map((n) => `ns=${n}`)];
  r.push(...MASKED.map((p) => `mask=${p}`), ...READONLY.map((p) => `readonly_path=${p}`));
  r.push('argv=/bin/true', 'env=PATH=/usr/bin:/bin', ...DOCKER_CAPS.map((c) => `cap=${c}`), 'end=1');
  return Buffer.from(`${r.join('\0')}\0`);
}
const FULL = spec(['pid', 'net', 'uts', 'ipc', 'mnt']);
const NO_NET = spec(['pid', 'uts', 'ipc', 'mnt']);

// The spec goes in a file (--spec-file) so both commands are spawned the
// same way, directly by spawnSync.
const dir = mkdtempSync(join(tmpdir(), 'tstop-bench-helper-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
function specFile(name, buf) {
  const path = join(dir, name);
  writeFileSync(path, buf);
  return path;
}
const FULL_FILE = specFile('full', FULL);
const NO_NET_FILE = specFile('no-net', NO_NET);

function runHelper(file, trace) {
  const env = trace ? { TSTOP_HELPER_TRACE: '1' } : {};
  const t0 = process.hrtime.bigint();
  const r = spawnSync(helper, ['--spec-file', file], { stdio: ['ignore', 'ignore', 'pipe'], env });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`helper failed (${r.status}): ${r.stderr}`);
  return { t0, t1, stderr: r.stderr.toString() };
}

function runUnshare() {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('unshare', ['--fork', '--pid', '--mount-proc', '--uts', '--ipc', '--net', '/bin/true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`unshare failed (${r.status}): ${r.stderr}`);
  return { t0, t1 };
}

const ms = (ns) => Number(ns) / 1e6;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Phases between consecutive trace events (role/event as the helper prints).
const PHASES = [
  ['spawn: node fork/exec + helper startup', 'spawn', 'helper/start'],
  ['read + parse spec', 'helper/start', 'helper/spec-parsed'],
  ['clone3 with the namespaces', 'helper/spec-parsed', 'helper/clone'],
  ['parent releases the child (sync pipe)', 'helper/clone', 'child/released'],
  ['child: hostname, lo up', 'child/released', 'child/ns-setup-done'],
  ['child: mounts, total', 'child/ns-setup-done', 'child/mounts-done'],
  ['  - make / MS_REC|MS_PRIVATE', 'child/ns-setup-done', 'child/mounts-private'],
  ['  - detach host /proc, mount fresh proc', 'child/mounts-private', 'child/proc-mounted'],
  ['  - detach host /sys tree, mount sysfs ro', 'child/proc-mounted', 'child/sys-mounted'],
  ['  - fresh /dev/shm, /dev/mqueue', 'child/sys-mounted', 'child/ipc-mounts-done'],
  ['  - masked + read-only paths', 'child/ipc-mounts-done', 'child/mounts-done'],
  ['child: bounding set, uid/gid, capset, no_new_privs', 'child/mounts-done', 'child/privileges-dropped'],
  ['child: prepare exec (fds, signals)', 'child/privileges-dropped', 'child/exec'],
  ['execve of /bin/true until the parent sees it', 'child/exec', 'helper/exec-ok'],
  ['workload runs, exits, is reaped', 'helper/exec-ok', 'helper/exit'],
  ['helper exits, node sees it', 'helper/exit', 'end'],
];

function phasesOf(run) {
  const at = new Map([['spawn', run.t0], ['end', run.t1]]);
  for (const line of run.stderr.split('\n')) {
    const m = /^tstop-helper-trace (\d+) (\S+) (\S+)$/.exec(line);
    if (m) at.set(`${m[2]}/${m[3]}`, BigInt(m[1]));
  }
  return PHASES.map(([, from, to]) => (at.has(from) && at.has(to) ? ms(at.get(to) - at.get(from)) : NaN));
}

const series = { helper: [], helperTraced: [], helperNoNet: [], unshare: [] };
const phaseRuns = [];
for (let i = 0; i < runs + 3; i++) {
  const warm = i < 3;
  const a = runHelper(FULL_FILE, false);
  const b = runUnshare();
  const c = runHelper(FULL_FILE, true);
  const d = runHelper(NO_NET_FILE, false);
  if (warm) continue;
  series.helper.push(ms(a.t1 - a.t0));
  series.unshare.push(ms(b.t1 - b.t0));
  series.helperTraced.push(ms(c.t1 - c.t0));
  series.helperNoNet.push(ms(d.t1 - d.t0));
  phaseRuns.push(phasesOf(c));
}

const phaseMedians = PHASES.map(([name], i) => ({ phase: name, medianMs: median(phaseRuns.map((p) => p[i]).filter((x) => !Number.isNaN(x))) }));
const result = {
  runs,
  medianMs: {
    'tstop-helper (pid,net,uts,ipc,mnt)': median(series.helper),
    'unshare --fork --pid --mount-proc --uts --ipc --net': median(series.unshare),
    'tstop-helper, traced': median(series.helperTraced),
    'tstop-helper without net ns': median(series.helperNoNet),
  },
  phases: phaseMedians,
};

if (asJson) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`launch /bin/true, median of ${runs} interleaved runs (wall time seen by node's spawnSync)\n`);
  for (const [k, v] of Object.entries(result.medianMs)) console.log(`  ${v.toFixed(2).padStart(7)} ms  ${k}`);
  console.log('\nwhere the traced helper run goes (median per phase):\n');
  for (const p of phaseMedians) console.log(`  ${p.medianMs.toFixed(3).padStart(7)} ms  ${p.phase}`);
}
