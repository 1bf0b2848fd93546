// A private Docker engine for the docker lane (vitest.docker.config.ts): dockerd
// started by hand on its own socket, data root, exec root and pidfile, all in
// one mkdtemp directory, so it never touches a system Docker
// (/var/run/docker.sock, /var/lib/docker). No registry is reachable: the one
// image is `docker import` of a busybox-static rootfs plus a static build of
// test/helpers/testload.c (exact memory allocation and CPU burning).
// stop() removes the containers, stops dockerd by its pid, kills what it left
// (its containerd and shims, found by our directory in their command line),
// unmounts what is still mounted below the directory and removes it.

import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export const IMAGE = 'tstop-busybox:lane';

/** What the global setup hands to the test files (vitest provide/inject). */
export interface EngineInfo {
  dir: string;
  socket: string;
  dataRoot: string;
  execRoot: string;
  /** DOCKER_HOST and a private DOCKER_CONFIG, for the docker CLI. */
  env: Record<string, string>;
  image: string;
  /** Measured at setup, for docs/benchmarks.md: ms. */
  timings: { dockerdStartMs: number; imageImportMs: number; containerRunMs: number };
}

/** One line saying why the lane cannot run (the lane script turns it into exit 125). */
export class EngineStartError extends Error {
  override name = 'EngineStartError';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const here = path.dirname(new URL(import.meta.url).pathname);
const TESTLOAD_SOURCE = path.resolve(here, '../helpers/testload.c');

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function staticBusybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!fs.existsSync(p)) continue;
    const head = fs.readFileSync(p).subarray(0, 8192).toString('latin1');
    if (!/ld-linux|ld-musl/.test(head)) return p;
  }
  throw new EngineStartError('no static busybox (apt-get install busybox-static)');
}

/** The image's root: busybox with its applets, a static testload, /etc/passwd and a hostname file. */
export function buildRootfs(rootfs: string): void {
  const busybox = staticBusybox();
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.writeFileSync(
    path.join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n',
  );
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout.split('\n');
  for (const a of applets) {
    if (a && a !== 'busybox' && !a.includes('/')) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  }
  const cc = spawnSync('cc', ['-static', '-O2', '-o', path.join(rootfs, 'bin', 'testload'), TESTLOAD_SOURCE], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) throw new EngineStartError(`cannot build a static testload: ${cc.stderr.trim().split('\n')[0]}`);
}

/** Processes whose command line mentions `dir` (dockerd's containerd and shims), by pid. */
export function processesMentioning(dir: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes(dir)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Mount points at or below `dir`, deepest first (overlay2 layers, netns, shm). */
export function mountsBelow(dir: string): string[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && (p === dir || p.startsWith(dir + '/')));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The /docker parent of every v1 hierarchy and of the unified one, as they are now (to tidy only what we made). */
function dockerParents(): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const p = path.join('/sys/fs/cgroup', h, 'docker');
    if (fs.existsSync(p)) out.push(p);
  }
  return out;
}

/** The container's cgroup directories that exist, in every hierarchy (cgroupfs driver: /docker/<id>). */
function containerCgroups(id: string): string[] {
  return dockerParents()
    .map((p) => path.join(p, id))
    .filter((d) => fs.existsSync(d));
}

function readProcs(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export class DockerEngine {
  readonly dir: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly env: Record<string, string>;
  private pid: number | null = null;
  private parentsBefore: Set<string> = new Set();
  timings = { dockerdStartMs: 0, imageImportMs: 0, containerRunMs: 0 };

  constructor() {
    // dockerd's exec root holds unix sockets (108-byte limit): keep the path short.
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-dk-'));
    this.socket = path.join(this.dir, 'docker.sock');
    this.dataRoot = path.join(this.dir, 'data');
    this.execRoot = path.join(this.dir, 'exec');
    this.env = { DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: path.join(this.dir, 'cli') };
  }

  info(): EngineInfo {
    return {
      dir: this.dir,
      socket: this.socket,
      dataRoot: this.dataRoot,
      execRoot: this.execRoot,
      env: this.env,
      image: IMAGE,
      timings: this.timings,
    };
  }

  async start(timeoutMs = 60_000): Promise<void> {
    for (const cmd of ['dockerd', 'docker', 'containerd', 'runc', 'cc']) {
      if (which(cmd) === null) throw new EngineStartError(`${cmd} not found (apt-get install docker.io gcc libc6-dev)`);
    }
    this.parentsBefore = new Set(dockerParents());
    fs.mkdirSync(this.dataRoot);
    fs.mkdirSync(this.execRoot);
    fs.mkdirSync(this.env.DOCKER_CONFIG);
    const log = fs.openSync(path.join(this.dir, 'dockerd.log'), 'a');
    const started = Date.now();
    // prettier-ignore
    // In a network namespace of its own (unshare execs dockerd: the pid is dockerd's): the
    // bridges and veths of `docker network create` live there, never on the host's network.
    const child = spawn('unshare', ['--net', '--', 'dockerd',
      '--host', `unix://${this.socket}`,
      '--data-root', this.dataRoot,
      '--exec-root', this.execRoot,
      '--pidfile', path.join(this.dir, 'dockerd.pid'),
      '--storage-driver', 'overlay2',
      '--iptables=false', '--ip6tables=false', '--bridge=none',
      '--userland-proxy=false',
    ], { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    if (child.pid === undefined) throw new EngineStartError('dockerd could not be spawned');
    this.pid = child.pid;
    child.unref();
    let exited: string | null = null;
    child.on('exit', (code, sig) => {
      exited = `exited (${sig ?? code})`;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exited !== null) throw new EngineStartError(`dockerd ${exited}: ${this.lastLogLine()}`);
      if (fs.existsSync(this.socket) && (await this.ping())) break;
      if (Date.now() > deadline) {
        throw new EngineStartError(`dockerd did not answer in ${timeoutMs} ms: ${this.lastLogLine()}`);
      }
      await sleep(100);
    }
    this.timings.dockerdStartMs = Date.now() - started;
    const importStart = Date.now();
    const rootfs = path.join(this.dir, 'rootfs');
    buildRootfs(rootfs);
    const tar = spawnSync('sh', ['-c', `tar -C "$0" -c . | docker import - "$1"`, rootfs, IMAGE], {
      env: { ...process.env, ...this.env },
      encoding: 'utf8',
    });
    if (tar.status !== 0) throw new EngineStartError(`docker import failed: ${tar.stderr.trim()}`);
    this.timings.imageImportMs = Date.now() - importStart;
    // A first container, start to exit: the engine can run what the tests will run.
    const runStart = Date.now();
    const run = spawnSync('docker', ['run', '--rm', IMAGE, 'true'], {
      env: { ...process.env, ...this.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new EngineStartError(`docker run failed: ${(run.stderr ?? '').trim()}`);
    this.timings.containerRunMs = Date.now() - runStart;
  }

  lastLogLine(): string {
    try {
      const lines = fs.readFileSync(path.join(this.dir, 'dockerd.log'), 'utf8').trim().split('\n');
      const err = [...lines].reverse().find((l) => /level=(fatal|error)|failed/i.test(l));
      return (err ?? lines[lines.length - 1] ?? '(empty log)').slice(0, 400);
    } catch {
      return '(no log)';
    }
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.get({ socketPath: this.socket, path: '/_ping', timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => {
        req.destroy();
        resolve(false);
      });
    });
  }

  /**
   * Everything back as it was, whatever state the tests left. Returns what
   * could not be cleaned (empty when clean), so teardown can fail loudly.
   */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    if (this.pid !== null && alive(this.pid)) {
      // Remove containers first: dockerd would otherwise wait 10 s per container at shutdown.
      try {
        const ids = execFileSync('docker', ['ps', '-aq'], { env: { ...process.env, ...this.env }, timeout: 20_000 })
          .toString()
          .split('\n')
          .filter(Boolean);
        if (ids.length > 0) {
          execFileSync('docker', ['rm', '-f', ...ids], { env: { ...process.env, ...this.env }, timeout: 30_000 });
        }
      } catch (e) {
        problems.push(`docker rm -f failed: ${(e as Error).message.split('\n')[0]}`);
      }
      process.kill(this.pid, 'SIGTERM');
      for (let i = 0; i < 200 && alive(this.pid); i++) await sleep(100);
      if (alive(this.pid)) {
        problems.push(`dockerd ${this.pid} ignored SIGTERM for 20 s; killed`);
        process.kill(this.pid, 'SIGKILL');
        await sleep(500);
      }
    }
    // Processes of our containers still running (their shims gone or dockerd killed): orphans otherwise.
    const ids = this.containerIds();
    for (const pid of ids.flatMap((id) => containerCgroups(id).flatMap(readProcs))) {
      problems.push(`leftover container process ${pid}; killed`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    // dockerd's own containerd and the shims (they mention our exec root): only ours.
    for (const pid of processesMentioning(this.dir)) {
      problems.push(`leftover process ${pid} (${this.cmdline(pid)}); killed`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    for (let i = 0; i < 50 && processesMentioning(this.dir).length > 0; i++) await sleep(100);
    for (const m of mountsBelow(this.dir)) {
      problems.push(`leftover mount ${m}; unmounted`);
      spawnSync('umount', ['-l', m]);
    }
    for (const cg of ids.flatMap(containerCgroups)) {
      problems.push(`leftover cgroup ${cg}; removed`);
      spawnSync('rmdir', [cg]);
    }
    // The /docker cgroup parents our dockerd created (rmdir fails harmlessly when another engine uses them).
    for (const p of dockerParents()) if (!this.parentsBefore.has(p)) spawnSync('rmdir', [p]);
    fs.rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }

  /** Ids of the containers this engine made (its data root's containers/ directory). */
  private containerIds(): string[] {
    try {
      return fs.readdirSync(path.join(this.dataRoot, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
    } catch {
      return [];
    }
  }

  private cmdline(pid: number): string {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 120);
    } catch {
      return '?';
    }
  }
}

// ------------------------------------------------------------- for the tests

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `docker ARGS` against the lane's engine; never rejects on a non-zero exit. */
export function docker(info: EngineInfo, args: string[], timeoutMs = 60_000): Promise<DockerResult> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      args,
      { env: { ...process.env, ...info.env }, encoding: 'utf8', timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `docker ARGS`, stdout trimmed; throws with docker's stderr on failure. */
export async function dockerOk(info: EngineInfo, args: string[]): Promise<string> {
  const r = await docker(info, args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** GET an engine API path over the lane's socket, parsed JSON. */
export function engineApi<T>(info: EngineInfo, apiPath: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: info.socket, path: apiPath, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${apiPath}: ${res.statusCode} ${body.trim()}`));
        else resolve(JSON.parse(body) as T);
      });
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${apiPath}: timed out`)));
  });
}

/** The --*-root flags that point tstop at the lane's engine. */
export function tstopRootFlags(info: EngineInfo): string[] {
  return ['--docker-root', info.dataRoot, '--runc-root', path.join(info.execRoot, 'runtime-runc', 'moby')];
}
