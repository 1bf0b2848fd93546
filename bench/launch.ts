// Launch latency of `tstop run` against its floors, interleaved in one run:
//
//   tstop run --network none -- /bin/true    bin/tstop of this checkout, run directly
//   the same with --security-opt seccomp=unconfined (the default profile's cost)
//   node -e 0                                Node's own start: the floor of any Node CLI
//   unshare --fork --pid --mount-proc --uts --ipc --net /bin/true
//   runc run (same namespaces, busybox-static rootfs)   when runc is installed
//   tstop run --image (overlay) next to --rootfs (bench/launch-image.ts)
//
// Medians of interleaved runs; overhead = tstop run - node start. Then
// traced runs (TSTOP_RUN_TRACE=1 + TSTOP_HELPER_TRACE=1, CLOCK_MONOTONIC
// stamps on stderr, the clock process.hrtime uses here) split tstop run into
// phases. Containers go to a parent of their own (TSTOP_RUN_PARENT) and a
// temporary state dir, both removed at the end.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirsDeepestFirst } from '../src/cgroupfs/create.js';
import { detectCgroupMounts } from '../src/cgroupfs/mounts.js';
import { benchImage } from './launch-image.js';
import { benchNetwork } from './launch-network.js';

const RUNS = 21;
const TRACED = 15;

function repoFile(rel: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, rel);
    if (fs.existsSync(p)) return p;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`${rel} not found above bench/`);
    dir = up;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function timed(cmd: string[], env: NodeJS.ProcessEnv): { ms: number; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { ms, stderr: r.stderr.toString() };
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** A runc bundle running busybox's true in new pid, net, uts, ipc and mount namespaces, cgroups under ours. */
function runcBundle(dir: string, cgroupParent: string): string | null {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox) return 'no busybox (apt-get install busybox-static)';
  const rootfs = path.join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'true'));
  const r = spawnSync('runc', ['spec'], { cwd: dir });
  if (r.status !== 0) return `runc spec failed: ${r.stderr}`;
  const specFile = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(specFile, 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
    linux: { cgroupsPath?: string; namespaces: { type: string }[] };
  };
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  spec.root = { path: 'rootfs', readonly: true };
  spec.linux.cgroupsPath = cgroupParent;
  spec.linux.namespaces = ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type }));
  fs.writeFileSync(specFile, JSON.stringify(spec));
  return null;
}

/** Phases of a traced `tstop run`, in ms after the spawn. */
function phases(stderr: string, t0: bigint): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stderr.split('\n')) {
    const m = /^tstop-(?:run|helper)-trace (\d+) (\S+) (\S+)$/.exec(line);
    if (m && !out.has(`${m[2]}:${m[3]}`)) out.set(`${m[2]}:${m[3]}`, Number(BigInt(m[1]) - t0) / 1e6);
  }
  return out;
}

/**
 * tstop's own process in CPU time (TSTOP_RUN_TRACE=cpu: process.cpuUsage() at each
 * stamp, which counts bin/tstop's sh too: exec keeps the process), interleaved with
 * `node -e` reporting its own at its first line. Steadier than the wall stamps on a loaded host.
 */
function cpuSteps(tstop: string[], env: NodeJS.ProcessEnv): string {
  const stamps = new Map<string, number[]>([['node first line', []]]);
  const add = (k: string, ms: number): void => {
    if (!stamps.has(k)) stamps.set(k, []);
    stamps.get(k)?.push(ms);
  };
  for (let i = 0; i < TRACED; i++) {
    const { stderr } = timed(tstop, { ...env, TSTOP_RUN_TRACE: 'cpu' });
    for (const m of stderr.matchAll(/^tstop-run-cpu (\d+) tstop (\S+)$/gm)) add(m[2], Number(m[1]) / 1000);
    const n = timed(
      [process.execPath, '-e', 'const u = process.cpuUsage(); process.stderr.write(String(u.user + u.system))'],
      env,
    );
    add('node first line', Number(n.stderr) / 1000);
  }
  let prev = 0;
  const steps = [...stamps].map(([k, xs]) => {
    const at = median(xs);
    const text = k === 'node first line' ? `${k} ${at.toFixed(1)}` : `${k} +${(at - prev).toFixed(2)}`;
    prev = k === 'node first line' ? at : Math.max(prev, at);
    return text;
  });
  return `launch: tstop run's own CPU ms by step (process.cpuUsage() at the stamps, medians of ${TRACED}): ${steps.join(', ')}`;
}

function removeTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const d of dirsDeepestFirst(dir)) {
    try {
      fs.rmdirSync(d);
    } catch {
      // busy or gone: left for the next sweep
    }
  }
}

export async function bench(_options: { cgroups: number }): Promise<string[]> {
  if (process.getuid?.() !== 0) return ['launch: skipped (needs root)'];
  const bin = repoFile('bin/tstop');
  if (!fs.existsSync(repoFile('native/build/tstop-helper'))) return ['launch: skipped (no native/build/tstop-helper)'];
  const parentName = `tstop-bench-${process.pid}-launch`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-bench-launch-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TSTOP_RUN_DIR: path.join(tmp, 'state'),
    TSTOP_RUN_PARENT: `/${parentName}/tstop`,
  };
  delete env.TSTOP_RUN_TRACE;
  delete env.TSTOP_HELPER_TRACE;
  // bin/tstop drops it for the launcher's commands (they make no TLS connection); node -e 0 must not pay
  // for it either (~40 ms of CPU with Debian's CA bundle), or the comparison flatters tstop.
  delete env.NODE_EXTRA_CA_CERTS;
  const mounts = detectCgroupMounts('/');
  const lines: string[] = [];
  try {
    const runc = which('runc');
    let runcNote: string | null = runc ? null : 'runc not installed (apt-get install runc)';
    const bundle = path.join(tmp, 'bundle');
    if (runc) {
      fs.mkdirSync(bundle);
      runcNote = runcBundle(bundle, `/${parentName}/runc`);
    }
    const commands: Record<string, string[]> = {
      tstop: [bin, 'run', '--network', 'none', '--', '/bin/true'],
      unconfined: [bin, 'run', '--network', 'none', '--security-opt', 'seccomp=unconfined', '--', '/bin/true'],
      node: [process.execPath, '-e', '0'],
      unshare: ['unshare', '--fork', '--pid', '--mount-proc', '--uts', '--ipc', '--net', '/bin/true'],
    };
    const times: Record<string, number[]> = { tstop: [], unconfined: [], node: [], unshare: [], runc: [] };
    for (let i = 0; i < 2; i++) for (const c of Object.values(commands)) timed(c, env); // warm caches
    for (let i = 0; i < RUNS; i++) {
      for (const [k, c] of Object.entries(commands)) times[k].push(timed(c, env).ms);
      if (runcNote === null) {
        const c = ['runc', '--root', path.join(tmp, 'runc-state'), 'run', '--bundle', bundle, `bench-${i}`];
        times.runc.push(timed(c, env).ms);
      }
    }
    const tstop = median(times.tstop);
    const node = median(times.node);
    const runcText = runcNote === null ? `${median(times.runc).toFixed(1)} ms` : `- (${runcNote})`;
    lines.push(
      `launch: tstop run ${tstop.toFixed(1)} ms (with seccomp=unconfined ${median(times.unconfined).toFixed(1)} ms), node start ${node.toFixed(1)} ms, unshare ${median(times.unshare).toFixed(1)} ms, runc ${runcText}, overhead ${(tstop - node).toFixed(1)} ms (medians of ${RUNS} interleaved runs)`,
    );

    lines.push(...(await benchImage(bin, env, tmp))); // --image (overlay) next to --rootfs

    // Where the time goes: traced runs, each stamp's median.
    const traced: Map<string, number>[] = [];
    const firstLine: number[] = [];
    const traceEnv = { ...env, TSTOP_RUN_TRACE: '1', TSTOP_HELPER_TRACE: '1' };
    for (let i = 0; i < TRACED; i++) {
      let t0 = process.hrtime.bigint();
      const r = spawnSync(commands.tstop[0], commands.tstop.slice(1), {
        env: traceEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const end = Number(process.hrtime.bigint() - t0) / 1e6;
      const p = phases(r.stderr.toString(), t0);
      p.set('exit', end);
      traced.push(p);
      t0 = process.hrtime.bigint();
      const n = spawnSync(process.execPath, ['-e', 'process.stderr.write(String(process.hrtime.bigint()))'], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      firstLine.push(Number(BigInt(n.stderr.toString()) - t0) / 1e6);
    }
    const at = (k: string): number => median(traced.map((p) => p.get(k)).filter((x): x is number => x !== undefined));
    const reexecs = traced.filter((p) => p.has('helper:reexec')).length;
    const steps: [string, number][] = [
      ['node start to its first line of JS', median(firstLine)],
      ["tstop's imports (main, command table, launcher modules)", at('tstop:run-module-loaded') - median(firstLine)],
      ['flags, checks, mounts', at('tstop:checked') - at('tstop:run-module-loaded')],
      ['state file, cgroup setup, spec', at('tstop:exec') - at('tstop:checked')],
      // tstop execs the helper in its own place (src/launcher/exec-in-place.ts): no spawn, no wait, no node exit,
      // from the sealed memfd copy it made (native/exec/exec.c), so the helper has no re-exec of its own (0).
      [
        "exec of tstop-helper in tstop's place",
        (reexecs > 0 ? at('helper:reexec') : at('helper:start')) - at('tstop:exec'),
      ],
      ['helper: sealed memfd copy and re-exec', reexecs > 0 ? at('helper:start') - at('helper:reexec') : 0],
      ['helper: spec, cgroup placement, clone', at('child:child-start') - at('helper:start')],
      ['child: namespaces, mounts, credentials, exec', at('child:exec') - at('child:child-start')],
      ['workload runs and exits, helper notices', at('helper:exit') - at('child:exec')],
      ['helper: OOM kills, cgroup removal, state', at('helper:owner-done') - at('helper:exit')],
      ['helper exits', at('exit') - at('helper:owner-done')],
    ];
    // The helper's cache (native/src/seccomp-cache.c) holds the program after the first run: "cached" is the usual case.
    const cached = traced.filter((p) => p.has('helper:seccomp-cached')).length;
    const prepared = cached > 0 ? at('helper:seccomp-cached') : at('helper:seccomp-built');
    lines.push(
      `launch: seccomp (medians of ${TRACED} traced runs, ${cached} from the helper's cache): helper prepares the default profile's filter ` +
        `${(prepared - at('helper:seccomp-build')).toFixed(2)} ms (inside "spec"), ` +
        `the workload's process loads it ${(at('child:seccomp-loaded') - at('child:seccomp-load')).toFixed(2)} ms`,
    );
    lines.push(
      `launch: where tstop run's ${at('exit').toFixed(1)} ms go (medians of ${TRACED} traced runs): ` +
        steps.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '),
    );
    lines.push(cpuSteps(commands.tstop, env));
    if (process.env.TSTOP_BENCH_NETWORK !== '0') lines.push(...benchNetwork(bin, env, tmp));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    // runc also makes its cgroups in hierarchies tstop leaves alone (name=systemd): every mount.
    for (const h of mounts.hierarchies) removeTree(path.join(h.mountPoint, parentName));
  }
  return lines;
}
