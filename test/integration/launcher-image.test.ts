// Issue 18, images: `tstop load` of archives the test builds (busybox-static
// in layer 1; layer 2 whites out a file, adds one and makes a directory
// opaque), `tstop images`, `tstop run --image` on an overlay mounted in the
// container's own namespace, `tstop rmi`. The store, the run directory and
// the cgroups are this run's own (TSTOP_IMAGES, TSTOP_RUN_DIR,
// TSTOP_RUN_PARENT).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';
import {
  busyboxLayerEntries,
  configOf,
  dockerSaveLegacyDir,
  dockerSaveOciDir,
  ociLayoutDir,
  SECOND_LAYER,
  sha256,
  tarDir,
  tarOf,
  type ImageSpec,
} from '../helpers/image-archive.js';
import { runTstop, type RunResult } from '../helpers/limit.js';
import { lgetxattr } from '../../src/launcher/image/syscalls.js';
import { ensureHelper, findBusybox } from '../native/harness.js';

const isRoot = process.getuid?.() === 0;

/** `docker save | gzip`. */
function gzipFile(file: string, out: string): string {
  fs.writeFileSync(out, zlib.gzipSync(fs.readFileSync(file)));
  return out;
}
const TAG = 'tstop-test/bb:v1';

/** Every path under dir with its type, mode, owner, size and content hash: a layer's fingerprint. */
function treeHash(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (rel: string): void => {
    const full = path.join(dir, rel);
    const st = fs.lstatSync(full);
    h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0${st.size}\0${st.rdev}\0${st.mtimeMs}\n`);
    if (st.isSymbolicLink()) h.update(fs.readlinkSync(full));
    else if (st.isFile()) h.update(fs.readFileSync(full));
    else if (st.isDirectory()) for (const n of fs.readdirSync(full).sort()) walk(path.join(rel, n));
  };
  walk('.');
  return h.digest('hex');
}

describe.runIf(isRoot)('tstop load / images / run --image / rmi (issue 18, images)', () => {
  let cg: TestCgroups;
  let env: NodeJS.ProcessEnv;
  let store: string;
  let spec: ImageSpec;
  let legacyTar: string;
  const tstop = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
    runTstop(args, { ...env, ...extra });

  beforeAll(async () => {
    ensureHelper();
    cg = new TestCgroups('image');
    store = cg.tmp('images');
    env = { ...process.env, TSTOP_RUN_DIR: cg.tmp('state'), TSTOP_RUN_PARENT: `${cg.id()}/tstop`, TSTOP_IMAGES: store };
    const busybox = findBusybox();
    if (!busybox) throw new Error('a static busybox is needed: apt-get install busybox-static');
    spec = {
      layers: [await tarOf(busyboxLayerEntries(busybox)), await tarOf(SECOND_LAYER)],
      config: {
        Cmd: ['sh', '-c', 'echo "$GREETING in $(pwd) as $(id -u) path=$PATH"'],
        Env: ['PATH=/bin', 'GREETING=hello-from-image'],
        WorkingDir: '/opt',
        ExposedPorts: { '8080/tcp': {} },
      },
      tags: [TAG],
    };
    legacyTar = tarDir(dockerSaveLegacyDir(cg.tmp('legacy'), spec), cg.tmp('legacy.tar'));
  });

  afterAll(async () => {
    for (const n of fs.existsSync(env?.TSTOP_RUN_DIR ?? '') ? fs.readdirSync(env.TSTOP_RUN_DIR as string) : []) {
      if (n.endsWith('.json')) await tstop(['rm', '-f', n.slice(0, -5)]);
    }
    await cg?.cleanup();
  });

  const imageId = (): string => sha256(configOf(spec));

  it('loads a two-layer docker save archive (legacy layout) and lists it', async () => {
    const r = await tstop(['load', '-i', legacyTar]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`Loaded image: ${TAG}\n`);
    expect(r.code).toBe(0);
    const layers = fs.readdirSync(path.join(store, 'layers')).sort();
    expect(layers).toEqual(spec.layers.map(sha256).sort());
    const images = await tstop(['images']);
    expect(images.code).toBe(0);
    const lines = images.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^IMAGE\s+ID\s+CREATED\s+SIZE\s+EXPOSED$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${TAG}\\s+${imageId().slice(0, 12)}\\s+\\d+ \\w+ ago\\s+[\\d.]+\\s?\\w+\\s+8080/tcp$`),
    );
    const json = JSON.parse((await tstop(['images', '--json'])).stdout) as { id: string; sizeBytes: number };
    expect(json.id).toBe(`sha256:${imageId()}`);
    const busyboxBytes = fs.statSync(findBusybox() as string).size;
    expect(json.sizeBytes).toBeGreaterThanOrEqual(busyboxBytes);
    expect(json.sizeBytes).toBeLessThan(busyboxBytes + 4096);
  });

  it('layers keep owners, setuid bits and hardlinks; whiteouts are overlayfs whiteouts', () => {
    const one = path.join(store, 'layers', sha256(spec.layers[0]), 'fs');
    const two = path.join(store, 'layers', sha256(spec.layers[1]), 'fs');
    expect(fs.statSync(path.join(one, 'bin/setuid-file')).mode & 0o7777).toBe(0o4755);
    const notes = fs.statSync(path.join(one, 'home/app/notes'));
    expect([notes.uid, notes.gid, notes.mode & 0o7777]).toEqual([1000, 1000, 0o600]);
    expect(fs.statSync(path.join(one, 'home/app')).mode & 0o7777).toBe(0o750);
    expect(fs.statSync(path.join(one, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(fs.statSync(path.join(one, 'bin/hardlinked')).ino).toBe(fs.statSync(path.join(one, 'bin/busybox')).ino);
    const whiteout = fs.lstatSync(path.join(two, 'etc/removed'));
    expect(whiteout.isCharacterDevice()).toBe(true);
    expect(whiteout.rdev).toBe(0);
    expect(fs.existsSync(path.join(two, 'etc/.wh.removed'))).toBe(false);
    expect(lgetxattr(path.join(two, 'opt/a'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(fs.existsSync(path.join(two, 'opt/a/.wh..wh..opq'))).toBe(false);
    expect(fs.statSync(store).mode & 0o777).toBe(0o700);
  });

  it('loading it again extracts nothing new (layers are shared and kept once)', async () => {
    const before = fs.statSync(path.join(store, 'layers', sha256(spec.layers[0]))).ino;
    const r = await tstop(['load', '-i', legacyTar]);
    expect(r.code).toBe(0);
    expect(fs.statSync(path.join(store, 'layers', sha256(spec.layers[0]))).ino).toBe(before);
    expect(fs.readdirSync(path.join(store, 'tmp'))).toEqual([]);
  });

  it("--image runs the image's Cmd with its Env and WorkingDir", async () => {
    const r = await tstop(['run', '--rm', '--image', TAG]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello-from-image in /opt as 0 path=/bin\n');
    expect(r.code).toBe(0);
  });

  it('-e overrides the image Env, COMMAND replaces Cmd, -w and -u replace WorkingDir and User', async () => {
    const r = await tstop([
      'run',
      '--rm',
      '--image',
      TAG,
      '-e',
      'GREETING=overridden',
      '-w',
      '/etc',
      '-u',
      'app',
      '--',
      'sh',
      '-c',
      'echo "$GREETING $(pwd) $(id -u):$(id -g)"',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('overridden /etc 1000:1000\n');
    // --entrypoint replaces the image's (none here) and drops its Cmd: only COMMAND's arguments follow it.
    const e = await tstop(['run', '--rm', '--image', TAG, '--entrypoint', '/bin/echo', '--', 'from', 'entrypoint']);
    expect(e.stdout).toBe('from entrypoint\n');
    const empty = await tstop(['run', '--rm', '--image', TAG, '--entrypoint', '/bin/true']);
    expect(empty.stdout).toBe('');
    expect(empty.code).toBe(0);
  });

  it('the whited-out file is absent, the added one present, the opaque directory hides the lower one', async () => {
    const r = await tstop([
      'run',
      '--rm',
      '--image',
      TAG,
      '--',
      'sh',
      '-c',
      'test -e /etc/removed; echo "removed=$?"; cat /etc/added /etc/kept; ls /opt/a; ls -a /etc',
    ]);
    expect(r.stderr).toBe('');
    const out = r.stdout.split('\n');
    expect(out.slice(0, 4)).toEqual(['removed=1', 'added by layer 2', 'kept from layer 1', 'new']);
    expect(r.stdout).not.toMatch(/\.wh\./);
    expect(r.code).toBe(0);
  });

  it("a container's writes stay in it: the layers are unchanged and a second container sees the image", async () => {
    const layerHashes = spec.layers.map((l) => treeHash(path.join(store, 'layers', sha256(l), 'fs')));
    const w = await tstop([
      'run',
      '--name',
      'writer',
      '--image',
      TAG,
      '--',
      'sh',
      '-c',
      'echo scribbled > /etc/kept && echo new > /etc/written && rm /etc/added && rm /opt/a/new && echo ok',
    ]);
    expect(w.stderr).toBe('');
    expect(w.stdout).toBe('ok\n');
    expect(spec.layers.map((l) => treeHash(path.join(store, 'layers', sha256(l), 'fs')))).toEqual(layerHashes);
    // The write is in the container's upper directory, nowhere else.
    const upper = path.join(env.TSTOP_RUN_DIR as string, 'writer.fs', 'upper');
    expect(fs.readFileSync(path.join(upper, 'etc', 'written'), 'utf8')).toBe('new\n');
    const r = await tstop([
      'run',
      '--rm',
      '--image',
      TAG,
      '--',
      'sh',
      '-c',
      'cat /etc/kept /etc/added /opt/a/new; test -e /etc/written; echo "written=$?"',
    ]);
    expect(r.stdout).toBe('kept from layer 1\nadded by layer 2\nlayer 2\nwritten=1\n');
    // Nothing of the overlay is mounted on the host.
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(env.TSTOP_RUN_DIR as string);
  });

  it('a detached container: the overlay is only in its namespace; after kill -9 of its helper, rm leaves nothing', async () => {
    const d = await tstop([
      'run',
      '-d',
      '--name',
      'bg',
      '--image',
      TAG,
      '--',
      'sh',
      '-c',
      'echo data > /tmp/f; sleep 300',
    ]);
    expect(d.stderr).toBe('');
    expect(d.code).toBe(0);
    const state = JSON.parse(fs.readFileSync(path.join(env.TSTOP_RUN_DIR as string, 'bg.json'), 'utf8')) as {
      pid: number;
      helper: { pid: number };
      image: string;
      imageId: string;
    };
    expect(state.image).toBe(TAG);
    expect(state.imageId).toBe(`sha256:${imageId()}`);
    // The container sees its overlay as /; the host has no mount of it.
    const inside = fs.readFileSync(`/proc/${state.pid}/mountinfo`, 'utf8');
    expect(inside).toMatch(/ \/ \S+ - overlay overlay \S*lowerdir=/);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('bg.fs');
    process.kill(state.helper.pid, 'SIGKILL');
    await tstop(['ps', '-a']);
    expect((await tstop(['rm', '-f', 'bg'])).code).toBe(0);
    expect(fs.existsSync(path.join(env.TSTOP_RUN_DIR as string, 'bg.fs'))).toBe(false);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain('bg.fs');
  });

  it('rmi is refused while a container uses the image; after tstop rm the image and its layers go', async () => {
    const refused = await tstop(['rmi', TAG]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`tstop: rmi: image ${TAG} is used by the container writer: tstop rm it first\n`);
    expect(fs.readdirSync(path.join(store, 'layers'))).toHaveLength(2);
    expect((await tstop(['rm', 'writer'])).code).toBe(0);
    expect(fs.existsSync(path.join(env.TSTOP_RUN_DIR as string, 'writer.fs'))).toBe(false);
    const r = await tstop(['rmi', TAG]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`Untagged: ${TAG}`);
    expect(r.stdout).toContain(`Deleted: sha256:${imageId()}`);
    expect(fs.readdirSync(path.join(store, 'layers'))).toEqual([]);
    expect(fs.readdirSync(path.join(store, 'images'))).toEqual([]);
    expect((await tstop(['images', '-q'])).stdout).toBe('');
    const missing = await tstop(['run', '--rm', '--image', TAG]);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toMatch(/no image 'tstop-test\/bb:v1'.*there is no pull/);
  });

  it('the same image loads from docker 25+ archives, a gzipped docker save and an OCI layout (directory and tar, gzip layers)', async () => {
    const sources = {
      docker25: tarDir(dockerSaveOciDir(cg.tmp('docker25'), spec), cg.tmp('docker25.tar')),
      ociDir: ociLayoutDir(cg.tmp('oci'), spec),
      ociTar: tarDir(ociLayoutDir(cg.tmp('oci2'), spec), cg.tmp('oci.tar')),
      legacyGzip: gzipFile(legacyTar, cg.tmp('legacy.tar.gz')),
    };
    for (const [kind, input] of Object.entries(sources)) {
      const own = cg.tmp(`store-${kind}`);
      const r = await tstop(['load', '-i', input], { TSTOP_IMAGES: own });
      expect(r.stderr, kind).toBe('');
      expect(r.stdout, kind).toBe(`Loaded image: ${TAG}\n`);
      const json = JSON.parse((await tstop(['images', '--json'], { TSTOP_IMAGES: own })).stdout) as { id: string };
      expect(json.id, kind).toBe(`sha256:${imageId()}`);
      expect(fs.readdirSync(path.join(own, 'layers')).sort(), kind).toEqual(spec.layers.map(sha256).sort());
      const run = await tstop(
        ['run', '--rm', '--image', TAG, '--', 'sh', '-c', 'cat /etc/added; test -e /etc/removed || echo gone'],
        {
          TSTOP_IMAGES: own,
        },
      );
      expect(run.stdout, kind).toBe('added by layer 2\ngone\n');
    }
  });

  it('--image with --rootfs is a usage error (exit 2); a tag that does not parse too', async () => {
    const both = await tstop(['run', '--rm', '--image', TAG, '--rootfs', '/', '--', 'true']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--image and --rootfs are mutually exclusive/);
    const bad = await tstop(['run', '--rm', '--image', 'Bad Name!', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not an image name/);
  });
});
