// `tstop run` / `exec` / `ps` / `stop` / `rm` through the real CLI, on the
// real kernel (host: hybrid v1; the v2 lane: pure cgroup v2). Every
// container lives under this run's own parent (TSTOP_RUN_PARENT =
// /tstop-test-<pid>-run/tstop, removed in afterAll) and its state in a
// temporary TSTOP_RUN_DIR: the real /tstop and /run/tstop are never touched.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capabilitiesFromMask,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
} from '../../src/launcher/spec.js';
import { Collector } from '../../src/collect/collector.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { TestCgroups, waitFor } from '../helpers/cgroups.js';
import { spareCoreFor, testloadPath } from '../helpers/testload.js';
import { TSTOP_BIN } from '../helpers/limit.js';
import { startTstop, type StartedTstop, type TstopResult } from '../helpers/tstop-process.js';
import { ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;
const V2LANE = process.env.TSTOP_TEST_LANE === 'v2';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(isRoot)('tstop run / exec / ps / stop / rm', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  let parent: string;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  let collector: Collector;
  const children = new Set<ChildProcess>();

  /** Starts `tstop ARGS`; `done` resolves with the exit code and output. */
  const start = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): StartedTstop =>
    startTstop(children, args, { ...env, ...extraEnv });
  const tstop = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<TstopResult> => start(args, extraEnv).done;

  const stateOf = (name: string): Record<string, unknown> =>
    JSON.parse(fs.readFileSync(path.join(runDir, `${name}.json`), 'utf8')) as Record<string, unknown>;
  const cgroupDirs = (name: string): string[] =>
    cg.hierarchies.map((h) => path.join(h.mountPoint, ...parent.split('/').filter(Boolean), name));
  const find = (s: Snapshot, name: string): ContainerSnapshot | undefined =>
    s.containers.find((c) => c.id === `${parent}/${name}`);

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('run');
    parent = `${cg.id()}/tstop`;
    runDir = cg.tmp('state');
    env = { ...process.env, TSTOP_RUN_DIR: runDir, TSTOP_RUN_PARENT: parent };
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    rootfs = makeBusyboxRootfs(busybox);
    fs.mkdirSync(cg.tmp('scratch'), { recursive: true });
    collector = new Collector({ watch: false, tstopRunDir: runDir });
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    collector?.close();
    await cg?.cleanup(); // kills what is left in the containers' cgroups and removes them
    rootfs?.cleanup();
  });

  it('inside a busybox rootfs: PID 1, own processes, hostname, only lo, no IPC, fewer mounts, docker caps, no_new_privs; the exit code propagates', async () => {
    const script = [
      'echo "pid=$$"',
      'ps -o pid,args | tail -n +2 | while read p a; do echo "ps=$p ${a%% *}"; done',
      'echo "hostname=$(hostname)"',
      'echo "net=$(ls /sys/class/net | tr "\\n" " ")"',
      'echo "ipc=$(cat /proc/sysvipc/shm /proc/sysvipc/msg /proc/sysvipc/sem | wc -l)"',
      'awk \'{ print "mnt=" $5 }\' /proc/self/mountinfo',
      'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status | tr -d "\\t" | tr ":" "="',
      'exit 3',
    ].join('; ');
    const r = await tstop(['run', '--rm', '--rootfs', rootfs.rootfs, '-h', 'box', '--', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    const kv = new Map<string, string[]>();
    for (const line of r.stdout.trim().split('\n')) {
      const eq = line.indexOf('=');
      kv.set(line.slice(0, eq), [...(kv.get(line.slice(0, eq)) ?? []), line.slice(eq + 1).trim()]);
    }
    expect(kv.get('pid')).toEqual(['1']);
    // Only the workload (PID 1) and what it runs: the pipeline's ps and its siblings, no host process.
    const ps = kv.get('ps') ?? [];
    expect(ps[0]).toBe('1 sh');
    expect(ps.every((p) => Number(p.split(' ')[0]) < 20)).toBe(true);
    expect(ps.some((p) => /^\d+ \{?ps\}?$/.test(p))).toBe(true);
    expect(kv.get('hostname')).toEqual(['box']);
    expect(kv.get('net')).toEqual(['lo']);
    expect(kv.get('ipc')).toEqual(['3']); // three header lines, no segment, queue or semaphore
    // Only the mounts tstop made (besides docker's masks over /proc and /sys paths): none of the host's.
    const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
    const masks = new Set([...DEFAULT_MASKED_PATHS, ...DEFAULT_READONLY_PATHS]);
    const own = (kv.get('mnt') ?? []).filter((m) => !masks.has(m));
    expect([...new Set(own)].sort()).toEqual(['/', '/dev', '/dev/mqueue', '/dev/pts', '/dev/shm', '/proc', '/sys']);
    expect(own.length).toBeLessThan(hostMounts);
    const docker14 = [...DEFAULT_CAPABILITIES].sort();
    expect(capabilitiesFromMask(kv.get('CapEff')?.[0] ?? '').sort()).toEqual(docker14);
    expect(capabilitiesFromMask(kv.get('CapBnd')?.[0] ?? '').sort()).toEqual(docker14);
    expect(kv.get('NoNewPrivs')).toEqual(['1']);
    // --rm: nothing left behind.
    expect((await tstop(['ps', '-a', '-q'])).stdout).toBe('');
    expect(fs.readdirSync(runDir)).toEqual([]);
  });

  it("with the host's root: a private mount namespace with a fresh /proc and read-only sysfs, own hostname, IPC and network", async () => {
    const script = [
      'echo "pid=$$"',
      'echo "procs=$(ls -d /proc/[0-9]* | wc -l)"',
      'echo "hostname=$(hostname)"',
      'echo "net=$(ls /sys/class/net | tr "\\n" " ")"',
      'echo "ipcs=$(ipcs -m | grep -c "^0x")"',
      'echo "mounts=$(awk \'{ print $5 }\' /proc/self/mountinfo | sort -u | tr "\\n" " ")"',
      'echo "sys=$(awk \'$5 == "/sys" { print substr($6, 1, 3), $(NF - 2) }\' /proc/self/mountinfo | tail -n 1)"',
      'echo "nnp=$(grep NoNewPrivs /proc/self/status | tr -dc 0-9)"',
    ].join('; ');
    const r = await tstop(['run', '--rm', '--name', 'hostroot', '--', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1).trim()]),
    );
    expect(out.pid).toBe('1');
    expect(Number(out.procs)).toBeLessThanOrEqual(4); // sh, ls, wc and the subshell: not the host's
    expect(out.hostname).toBe('hostroot');
    expect(out.net).toBe('lo');
    expect(out.ipcs).toBe('0');
    // The host's tree (private copies of its mounts), with a fresh /proc and /sys (without the host's submounts).
    const hostPoints = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[4]);
    const seen = new Set(out.mounts.split(' '));
    expect(hostPoints.filter((m) => !seen.has(m) && !/^\/(sys|proc)\//.test(m))).toEqual([]);
    expect(hostPoints.filter((m) => m.startsWith('/sys/') && seen.has(m))).toEqual([]); // the host's /sys/fs/cgroup etc. are gone
    expect(out.sys).toBe('ro, sysfs'); // the mount on top of /sys: a fresh, read-only sysfs
    expect(out.nnp).toBe('1');
  });

  it('--userns maps root inside to the range outside', async () => {
    const r = await tstop([
      'run',
      '-d',
      '--name',
      'userns',
      '--rootfs',
      rootfs.rootfs,
      '--userns',
      '100000:65536',
      '--',
      'sleep',
      '600',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('userns\n');
    const pid = stateOf('userns').pid as number;
    const uid = await waitFor(
      'the uid',
      () => /^Uid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1],
    );
    expect(uid.split(/\s+/)).toEqual(['100000', '100000', '100000', '100000']);
    const inside = await tstop(['exec', 'userns', 'sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map']);
    expect(inside.stderr).toBe('');
    expect(
      inside.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).join(' ')),
    ).toEqual(['0', '0 100000 65536', '0 100000 65536']);
    const rm = await tstop(['rm', '-f', 'userns']);
    expect(rm.code).toBe(0);
    for (const d of cgroupDirs('userns')) expect(fs.existsSync(d)).toBe(false);
  });

  describe('a detached container with limits', () => {
    const name = 'box';
    let pid1 = 0;

    beforeAll(async () => {
      const r = await tstop([
        'run',
        '-d',
        '--name',
        name,
        '--memory',
        '64m',
        '--pids-limit',
        '10',
        '--cpus',
        '0.5',
        '--',
        'sh',
        '-c',
        'echo started; exec sleep 600',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      pid1 = stateOf(name).pid as number;
    });

    it('is listed by tstop ps and shown by the collector at once with runtime tstop, its name and isolated namespaces', async () => {
      const ps = await tstop(['ps']);
      const row = ps.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
      expect(row).toMatch(
        new RegExp(`^box\\s+${pid1}\\s+Up \\d+ seconds?\\s+memory 64m, cpus 0\\.5, pids 10\\s+sh -c`),
      );
      const c = find(collector.collect(), name);
      expect(c?.runtime).toBe('tstop');
      expect(c?.name).toBe(name);
      expect(c?.processes).toEqual([pid1]); // the helper is not in the container's cgroup
      expect(c?.initPid).toBe(pid1);
      const isolated = Object.entries(c?.namespaces ?? {})
        .filter(([, v]) => v?.isolated)
        .map(([k]) => k)
        .sort();
      expect(isolated).toEqual(['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts']);
      expect(c?.capabilities?.effective.slice().sort()).toEqual(
        [...DEFAULT_CAPABILITIES].map((x) => `CAP_${x}`).sort(),
      );
      expect(c?.memory?.limitBytes).toBe(64 * 1024 * 1024);
      expect(c?.pids?.limit).toBe(10);
      expect(c?.cpu?.quotaCores).toBeCloseTo(0.5, 5);
      expect((await tstop(['logs', name])).stdout).toBe('started\n');
    });

    it('tstop exec enters it: same hostname, PID namespace and mount table', async () => {
      const r = await tstop([
        'exec',
        name,
        'sh',
        '-c',
        'hostname; readlink /proc/self/ns/pid; cat /proc/self/mountinfo',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [hostname, pidns, ...mounts] = r.stdout.trim().split('\n');
      expect(hostname).toBe(name);
      expect(pidns).toBe(fs.readlinkSync(`/proc/${pid1}/ns/pid`));
      const strip = (l: string): string => l.split(' ').slice(1).join(' '); // mount ids aside
      expect(mounts.map(strip)).toEqual(
        fs.readFileSync(`/proc/${pid1}/mountinfo`, 'utf8').trim().split('\n').map(strip),
      );
      expect((await tstop(['exec', name, 'sh', '-c', 'exit 5'])).code).toBe(5);
    });

    it('a process touching 128 MiB is OOM-killed under the 64 MiB limit, and tstop reports it', async () => {
      const r = await tstop(['exec', name, testloadPath(), 'alloc', '128']);
      expect(r.code).toBe(137);
      const events = cg.mounts.mode === 'v2' ? 'memory.events' : 'memory.oom_control';
      const memDir = cgroupDirs(name).find((d) => fs.existsSync(path.join(d, events))) ?? '';
      expect(Number(/oom_kill (\d+)/.exec(fs.readFileSync(path.join(memDir, events), 'utf8'))?.[1])).toBeGreaterThan(0);
      expect(find(collector.collect(), name)?.memory?.oomKills).toBeGreaterThan(0);
    });

    it('--cpus 0.5 holds a busy loop near half a core', async () => {
      const spin = start(['exec', name, testloadPath(), 'spin']);
      await sleep(V2LANE ? 800 : 500);
      collector.collect();
      await sleep(V2LANE ? 2000 : 3000);
      const c = find(collector.collect(), name);
      spin.child.kill('SIGTERM'); // tstop exec forwards it; testload dies of it
      if (spareCoreFor('tstop run --cpus 0.5')) expect(c?.cpu?.percent).toBeGreaterThanOrEqual(40);
      expect(c?.cpu?.percent).toBeLessThanOrEqual(60);
      const r = await spin.done;
      expect(r.code).toBe(143);
    });

    it('tstop stop escalates to SIGKILL when PID 1 ignores SIGTERM; the cgroup goes, tstop rm removes the rest', async () => {
      const t0 = Date.now();
      const r = await tstop(['stop', '-t', '1', name]);
      expect(r.stdout).toBe(`${name}\n`);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
      const ps = await tstop(['ps', '-a']);
      expect(ps.stdout).toMatch(/^box\s+-\s+Exited \(137, \d+ OOM kills?\) \d+ seconds? ago/m);
      expect((await tstop(['ps', '-q'])).stdout).toBe('');
      for (const d of cgroupDirs(name)) expect(fs.existsSync(d)).toBe(false);
      expect((await tstop(['rm', name])).code).toBe(0);
      expect((await tstop(['ps', '-a', '-q'])).stdout).toBe('');
      expect(fs.readdirSync(runDir)).toEqual([]);
    });
  });

  it('--pids-limit 10 stops a fork bomb', async () => {
    // tstop-init (PID 1) and testload count too: at most 8 of its 50 children fit.
    const run = start([
      'run',
      '--rm',
      '--init',
      '--name',
      'forks',
      '--pids-limit',
      '10',
      '--',
      testloadPath(),
      'forkcount',
      '50',
    ]);
    let out = '';
    run.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const forked = Number(await waitFor('the fork count', () => /^(\d+)$/m.exec(out)?.[1], 20_000));
    expect(forked).toBeGreaterThan(0);
    expect(forked).toBeLessThanOrEqual(8);
    const c = find(collector.collect(), 'forks');
    expect(c?.pids?.limit).toBe(10);
    expect(c?.pids?.current).toBe(forked + 2);
    expect(c?.pids?.limitHits).toBeGreaterThanOrEqual(50 - forked);
    run.child.kill('SIGTERM'); // tstop-init passes it on; testload dies, and its children with the namespace
    expect((await run.done).code).toBe(143);
  });

  it('SIGTERM to tstop run reaches the workload; its exit code propagates', async () => {
    const ready = path.join(cg.tmp('scratch'), 'trap');
    const run = start([
      'run',
      '--rm',
      '--',
      'sh',
      '-c',
      `trap "exit 42" TERM; touch ${ready}; while :; do sleep 0.05; done`,
    ]);
    await waitFor('the trap', () => fs.existsSync(ready), 20_000);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(42);
  });

  it('with --init: SIGTERM reaches a workload without a handler, and orphaned zombies are reaped', async () => {
    const ready = path.join(cg.tmp('scratch'), 'zombies');
    const script = [
      `${testloadPath()} --ready ${ready} zombies 3 & z=$!`,
      `while [ ! -e ${ready} ]; do sleep 0.05; done`,
      'zombies() { grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l; }',
      'before=$(zombies); kill -9 $z; wait $z; sleep 0.2',
      'echo "zombies $before $(zombies)"; echo "init $(cat /proc/1/comm)"; exec sleep 600',
    ].join('; ');
    const run = start(['run', '--rm', '--init', '--name', 'init', '--', 'sh', '-c', script]);
    let out = '';
    run.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the zombie count', () => out.includes('init '), 20_000);
    expect(out).toMatch(/^zombies 3 0$/m);
    expect(out).toMatch(/^init tstop-init$/m);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(143); // sleep was killed by the forwarded SIGTERM
    for (const d of cgroupDirs('init')) expect(fs.existsSync(d)).toBe(false);
  });

  it('tstop ps notices a container whose tstop and helper were killed: recorded as exited, its cgroup removed', async () => {
    const run = start(['run', '--name', 'orphan', '--', 'sleep', '600']);
    const st = await waitFor('the state', () => {
      try {
        const s = stateOf('orphan');
        return s.status === 'running' ? s : null;
      } catch {
        return null;
      }
    });
    // A foreground tstop run became its helper (src/launcher/exec-in-place.ts): one process,
    // and the container dies with it, which nothing records.
    expect(st.helper).toEqual(st.owner);
    expect((st.owner as { pid: number }).pid).toBe(run.child.pid);
    run.child.kill('SIGKILL');
    await run.exited;
    await waitFor('the workload to die', () => !fs.existsSync(`/proc/${st.pid as number}/stat`) || undefined);
    const ps = await tstop(['ps', '-a']);
    expect(ps.stdout).toMatch(/^orphan\s+-\s+Exited \(\?\)/m);
    expect(stateOf('orphan').error).toBe('tstop was killed while the container ran; its exit code is unknown');
    for (const d of cgroupDirs('orphan')) expect(fs.existsSync(d)).toBe(false);
    expect((await tstop(['rm', 'orphan'])).code).toBe(0);
  });

  it('refuses clearly: bad flags (2), name in use, rootfs missing, not root (125)', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['run', '--cap-add', 'NOPE', '--', 'true'], 2, /unknown capability "NOPE"/],
      [['run', '--memory', '1m', '--', 'true'], 2, /--memory '1m': below the minimum of 6\.00MiB/],
      [['run', '--pids-limit', '0', '--', 'true'], 2, /--pids-limit '0': must be above 0/],
      [['run', '--network', 'bridged', '--', 'true'], 2, /--network 'bridged': tstop offers 'none'/],
      [
        ['run', '--rootfs', '/nonexistent/rootfs', '--', 'true'],
        125,
        /--rootfs \/nonexistent\/rootfs: no such directory/,
      ],
      [['run', '--rm', '--', 'no-such-command-x'], 127, /execvp\(no-such-command-x\): No such file or directory/],
    ];
    for (const [args, code, message] of cases) {
      const r = await tstop(args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
    }
    const a = start(['run', '--name', 'taken', '--', 'sleep', '600']);
    await waitFor('taken', () => fs.existsSync(path.join(runDir, 'taken.json')) || undefined);
    const b = await tstop(['run', '--name', 'taken', '--', 'true']);
    expect(b.code).toBe(125);
    expect(b.stderr).toMatch(/the container name 'taken' is already in use/);
    expect((await tstop(['rm', '-f', 'taken'])).code).toBe(0);
    expect((await a.done).code).toBe(137);
    const nobody = spawn(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, TSTOP_BIN, 'run', '--', 'true'],
      {
        env: { ...env, TSTOP_RUN_DIR: cg.tmp('nobody') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    nobody.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => nobody.on('close', r));
    expect(code).toBe(125);
    expect(err).toMatch(/^tstop: run: tstop run needs root: it creates namespaces and cgroups/);
    // Nothing was left behind by any refusal.
    expect((await tstop(['ps', '-a', '-q'])).stdout).toBe('');
    for (const h of cg.hierarchies) {
      const dir = path.join(h.mountPoint, ...parent.split('/').filter(Boolean));
      const left = fs.existsSync(dir)
        ? fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())
        : [];
      expect(left.map((e) => e.name)).toEqual([]);
    }
  });
});
