// Issue 10 through the real CLI (host: hybrid v1; the v2 lane: pure v2):
// the seccomp profile and its flags, the inheritable set, OOM score and
// rlimits, and `tstop exec` entering with what the container's own
// processes have (filter, capabilities, groups, cgroups incl. name=systemd).
// Containers live under this run's own parent and a temporary TSTOP_RUN_DIR.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';
import { TSTOP_BIN } from '../helpers/limit.js';
import { buildProbe, ensureHelper, findBusybox, makeBusyboxRootfs } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const fields = (out: string): Record<string, string> =>
  Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((l) => /^([^:\s]+):?\s+(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2].trim()]),
  );

describe.runIf(isRoot)('tstop run / exec security defaults', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let runDir: string;
  let rootfs: ReturnType<typeof makeBusyboxRootfs>;
  const children = new Set<ChildProcess>();

  /** `tstop ARGS`, optionally through `sh -c PREFIX; exec tstop ARGS` (to set the caller's OOM score or cgroup). */
  function tstop(args: string[], prefix?: string): Promise<Result> {
    const argv = prefix
      ? ['/bin/sh', '-c', `${prefix}; exec "$0" "$@"`, process.execPath, TSTOP_BIN, ...args]
      : [process.execPath, TSTOP_BIN, ...args];
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) =>
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code: code ?? -1, stdout, stderr });
      }),
    );
  }
  const run = (args: string[], prefix?: string): Promise<Result> =>
    tstop(['run', '--rm', '--rootfs', rootfs.rootfs, ...args], prefix);

  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('sec');
    runDir = cg.tmp('state');
    env = { ...process.env, TSTOP_RUN_DIR: runDir, TSTOP_RUN_PARENT: `${cg.id()}/tstop` };
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    rootfs = makeBusyboxRootfs(busybox);
    buildProbe('seccomp-probe', rootfs.rootfs);
    // /capbin/grep: busybox with every capability inheritable + effective in its file capabilities
    const tool = buildProbe('set-file-caps', cg.tmp(''));
    fs.mkdirSync(path.join(rootfs.rootfs, 'capbin'));
    fs.copyFileSync(busybox, path.join(rootfs.rootfs, 'capbin', 'grep'));
    fs.chmodSync(path.join(rootfs.rootfs, 'capbin', 'grep'), 0o755);
    const r = spawnSync(tool, [path.join(rootfs.rootfs, 'capbin', 'grep')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`set-file-caps: ${r.stderr}`);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await cg?.cleanup();
    rootfs?.cleanup();
  });

  it('the default profile: Seccomp 2, and unshare(CLONE_NEWUSER), keyctl, add_key, perf_event_open, io_uring_setup, userfaultfd fail with EPERM', async () => {
    const r = await run(['/seccomp-probe']);
    expect(r.stderr).toBe('');
    const f = fields(r.stdout);
    expect(f.seccomp).toBe('2');
    for (const call of ['unshare_user', 'keyctl', 'add_key', 'perf_event_open', 'io_uring_setup', 'userfaultfd']) {
      expect(f[call], call).toBe('EPERM');
    }
    expect(f.personality_addr_no_randomize).toBe('EPERM');
  });

  it('--security-opt seccomp=unconfined lifts it', async () => {
    const r = await run(['--security-opt', 'seccomp=unconfined', '/seccomp-probe']);
    const f = fields(r.stdout);
    expect(f.seccomp).toBe('0');
    expect(f.unshare_user).toBe('ok');
    expect(f.keyctl).toBe('ok');
  });

  it('--security-opt seccomp=PROFILE.json is honoured', async () => {
    const file = cg.tmp('profile.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['userfaultfd', 'io_uring_setup'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
      }),
    );
    const r = await run(['--security-opt', `seccomp=${file}`, '/seccomp-probe']);
    const f = fields(r.stdout);
    expect(f.seccomp).toBe('2');
    expect(f.userfaultfd).toBe('ENOSYS');
    expect(f.io_uring_setup).toBe('ENOSYS');
    expect(f.keyctl).toBe('ok');
  });

  it('a malformed profile is a clear error (125) and nothing is left behind', async () => {
    const file = cg.tmp('bad.json');
    fs.writeFileSync(file, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "ALLOW"}]}');
    const r = await run(['--name', 'badprofile', '--security-opt', `seccomp=${file}`, 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(
      `tstop: run: seccomp profile ${file} syscalls[0].action: unknown action "ALLOW" (known: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)\n`,
    );
    fs.writeFileSync(file, '{"defaultAction": ');
    const j = await run(['--security-opt', `seccomp=${file}`, 'true']);
    expect(j.code).toBe(125);
    expect(j.stderr).toMatch(new RegExp(`^tstop: run: seccomp profile ${file}: not valid JSON`));
    expect(fs.existsSync(runDir) ? fs.readdirSync(runDir) : []).toEqual([]);
  });

  it('ordinary workloads still run: a shell, busybox httpd serving a page', async () => {
    const script = [
      'mkdir -p /tmp/www && echo hello-httpd > /tmp/www/index.html',
      'httpd -p 127.0.0.1:8080 -h /tmp/www',
      'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/ && break; sleep 0.2; done',
    ].join('; ');
    const r = await run(['--init', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello-httpd\n');
    expect(r.code).toBe(0);
  });

  it('a -u 1000 workload running a binary with inheritable file capabilities gains none', async () => {
    // no-new-privileges=false: file capabilities count (as in Docker's default)
    const r = await run([
      '-u',
      '1000',
      '--security-opt',
      'no-new-privileges=false',
      '/capbin/grep',
      '-E',
      '^Cap(Inh|Prm|Eff)',
      '/proc/self/status',
    ]);
    expect(r.stderr).toBe('');
    expect(fields(r.stdout)).toEqual({
      CapInh: '0000000000000000',
      CapPrm: '0000000000000000',
      CapEff: '0000000000000000',
    });
  });

  it("oom_score_adj is 0 whatever the caller's, or --oom-score-adj", async () => {
    const caller = 'echo 500 > /proc/self/oom_score_adj';
    expect((await run(['cat', '/proc/self/oom_score_adj'], caller)).stdout).toBe('0\n');
    expect((await run(['--oom-score-adj', '300', 'cat', '/proc/self/oom_score_adj'], caller)).stdout).toBe('300\n');
  });

  it("rlimits: Docker's open-files default instead of the caller's, --ulimit", async () => {
    const caller = 'ulimit -S -n 77';
    const d = await run(['sh', '-c', 'ulimit -S -n'], caller);
    expect(d.stdout).toBe('1024\n');
    const u = await run(
      ['--ulimit', 'nofile=100:200', '--ulimit', 'core=0', 'sh', '-c', 'ulimit -S -n; ulimit -H -n; ulimit -c'],
      caller,
    );
    expect(u.stderr).toBe('');
    expect(u.stdout).toBe('100\n200\n0\n');
  });

  it("tstop exec enters with the container's seccomp filter, capabilities, groups and cgroups (name=systemd too)", async () => {
    const name = 'secexec';
    const d = await tstop([
      'run',
      '-d',
      '--name',
      name,
      '--rootfs',
      rootfs.rootfs,
      '--cap-drop',
      'NET_RAW',
      'sleep',
      '60',
    ]);
    expect(d.code).toBe(0);
    const status =
      "grep -E '^(Seccomp|Cap(Inh|Prm|Eff|Bnd)|Groups):' /proc/self/status; echo ---; cat /proc/self/cgroup";
    const own = await tstop([
      'exec',
      name,
      'sh',
      '-c',
      `${status.replace('/proc/self/status', '/proc/1/status')}; echo ---; cat /proc/1/cgroup`,
    ]);
    // The caller of exec sits in another cgroup of its own in every hierarchy (name=systemd included).
    cg.mkdir('caller');
    const join = cg
      .procsFiles('caller')
      .map((f) => `echo $$ > ${f}`)
      .join('; ');
    const ex = await tstop(['exec', name, 'sh', '-c', status], join);
    expect(ex.stderr).toBe('');
    const [exStatus, exCgroups] = ex.stdout.split('---\n');
    const [initStatus, initCgroups] = own.stdout.split('---\n');
    expect(fields(exStatus)).toEqual({ ...fields(initStatus), CapInh: '0000000000000000' });
    expect(fields(exStatus).Seccomp).toBe('2');
    expect(fields(exStatus).CapBnd).toBe('00000000a80405fb'); // Docker's 14 minus NET_RAW
    expect(exCgroups).toBe(initCgroups);
    if (cg.hierarchies.some((h) => h.name === 'systemd')) expect(exCgroups).toMatch(/:name=systemd:\/\n/);
    await tstop(['rm', '-f', name]);
  });
});
