// run mode with a busybox-static rootfs: pivot_root, /dev, volumes,
// masks, read-only root, pty.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangeMapping } from '../../src/launcher/spec.js';
import { CONTAINER_NS, ensureHelper, findBusybox, isRoot, makeBusyboxRootfs, runHelper, runSpec } from './harness.js';

const busybox = isRoot ? findBusybox() : undefined;
const sh = (script: string): string[] => ['/bin/sh', '-c', script];
const BB_PATH = { PATH: '/bin' };

describe.skipIf(!isRoot || !busybox)('tstop-helper run: rootfs', () => {
  let fs: ReturnType<typeof makeBusyboxRootfs>;
  let volume: string;

  beforeAll(() => {
    ensureHelper();
    fs = makeBusyboxRootfs(busybox ?? '');
    volume = join(fs.dir, 'volume');
    mkdirSync(volume);
    writeFileSync(join(volume, 'hello.txt'), 'from the host\n');
  });
  afterAll(() => fs?.cleanup());

  const spec = (argv: string[], extra: Parameters<typeof runSpec>[0] extends infer T ? Partial<T> : never = {}) =>
    runSpec({ rootfs: fs.rootfs, env: BB_PATH, hostname: 'bb', argv, ...extra });

  it('pivots into the rootfs: / is the busybox tree, the host is gone', async () => {
    const r = await runHelper(spec(sh('cat /etc/marker; ls /; ls /usr 2>&1; echo "pid=$$"; cat /proc/self/mountinfo')));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('busybox-rootfs');
    expect(r.stdout).toMatch(/^bin$/m);
    expect(r.stdout).toMatch(/No such file or directory/); // no /usr in our rootfs
    expect(r.stdout).toContain('pid=1');
    const mountinfo = lines.filter((l) => / - /.test(l));
    const root = mountinfo.find((l) => l.split(' ')[4] === '/');
    expect(root?.split(' ')[3]).toBe(fs.rootfs); // the root is our directory
    // Nothing of the host's tree is mounted any more.
    expect(mountinfo.some((l) => l.split(' ')[4].startsWith('/sys/fs/cgroup'))).toBe(false);
    expect(mountinfo.length).toBeLessThan(readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length);
  });

  it('builds a minimal /dev with devpts, shm and mqueue', async () => {
    const r = await runHelper(
      spec(
        sh(
          'ls /dev | sort | tr "\\n" " "; echo; echo hi > /dev/null && head -c 4 /dev/zero | od -An -tx1; grep -E " /dev(/pts|/shm|/mqueue)? " /proc/self/mountinfo',
        ),
      ),
    );
    expect(r.code).toBe(0);
    const [ls, zeros, ...lines] = r.stdout.trim().split('\n');
    // "<mount point> <fs type>" from mountinfo (type follows the " - ").
    const mounts = lines.map((l) => `${l.split(' ')[4]} ${l.split(' - ')[1].split(' ')[0]}`);
    for (const n of [
      'full',
      'null',
      'ptmx',
      'pts',
      'random',
      'shm',
      'mqueue',
      'tty',
      'urandom',
      'zero',
      'fd',
      'stdin',
    ]) {
      expect(ls.split(' ')).toContain(n);
    }
    expect(zeros.trim()).toBe('00 00 00 00');
    expect(mounts).toEqual(['/dev tmpfs', '/dev/pts devpts', '/dev/shm tmpfs', '/dev/mqueue mqueue']);
  });

  it('masks and write-protects paths inside the rootfs', async () => {
    const r = await runHelper(
      spec(
        sh(
          'wc -c < /proc/keys; ls /sys/firmware | wc -l; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1 | grep -c "Read-only"',
        ),
      ),
    );
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((s) => s.trim()),
    ).toEqual(['0', '0', '1']);
  });

  it('mounts volumes (ro and rw) and supports a read-only root', async () => {
    const rw = join(fs.dir, 'rw');
    mkdirSync(rw);
    const r = await runHelper(
      spec(
        sh(
          'cat /data/hello.txt; touch /data/x 2>&1 | grep -c Read-only; echo out > /out/file; touch /newfile 2>&1 | grep -c Read-only; echo tmp > /dev/shm/ok && cat /dev/shm/ok',
        ),
        {
          readonlyRootfs: true,
          volumes: [
            { source: volume, target: '/data', readonly: true },
            { source: rw, target: '/out' },
          ],
        },
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['from the host', '1', '1', 'tmp']);
    expect(readFileSync(join(rw, 'file'), 'utf8')).toBe('out\n');
    expect(existsSync(join(fs.rootfs, 'newfile'))).toBe(false);
  });

  it('works in a user namespace (uid 0 -> 100000) with the same rootfs', async () => {
    const r = await runHelper(
      spec(sh('id -u; ls -ln /etc/marker | awk "{print \\$3}"; hostname; ls /sys/class/net'), {
        namespaces: ['user', ...CONTAINER_NS],
        uidMap: [rangeMapping(100000)],
        gidMap: [rangeMapping(100000)],
      }),
    );
    expect(r.stderr).toBe('');
    // Host root's files show as the overflow uid inside.
    expect(r.stdout.trim().split('\n')).toEqual(['0', '65534', 'bb', 'lo']);
  });

  it('allocates a pty from the container devpts (tty=1)', async () => {
    const r = await runHelper(
      spec(sh('tty; test -t 0 && test -t 1 && echo both-tty; read line; echo "got $line"'), { tty: true }),
      {
        stdin: 'typed\n',
      },
    );
    expect(r.code).toBe(0);
    const out = r.stdout.replace(/\r/g, '');
    expect(out).toMatch(/^\/dev\/pts\/0$/m);
    expect(out).toMatch(/^both-tty$/m);
    expect(out).toMatch(/^got typed$/m);
  });

  it('reports a bad rootfs as a helper failure naming the step', async () => {
    const r = await runHelper(runSpec({ rootfs: '/nonexistent/rootfs', argv: ['/bin/true'] }));
    expect(r.code).toBe(125);
    expect(r.stderr).toBe('tstop-helper: rootfs /nonexistent/rootfs: No such file or directory (ENOENT)\n');
    expect(r.events).toEqual([
      { kind: 'error', message: 'rootfs /nonexistent/rootfs: No such file or directory (ENOENT)' },
      { kind: 'exit', code: 125 },
    ]);
  });
});
