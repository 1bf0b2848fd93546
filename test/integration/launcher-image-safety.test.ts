// Issue 18, images: `tstop load` as an attacker would feed it. Each archive
// is well-formed apart from its one trick (the config's diff_ids match the
// hostile layer, so only the content check can stop it); each must be
// refused with a clear message, leave nothing in the store (no layer, no
// image, no tag, no work directory) and nothing outside it. The "outside"
// targets are this run's own temp directories.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';
import {
  configOf,
  dockerSaveLegacyDir,
  ociLayoutDir,
  sha256,
  tarDir,
  tarOf,
  type Entry,
  type ImageSpec,
} from '../helpers/image-archive.js';
import { runTstop, type RunResult } from '../helpers/limit.js';
import { lgetxattr } from '../../src/launcher/image/syscalls.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('tstop load refuses hostile archives and leaves nothing behind (issue 18)', () => {
  let cg: TestCgroups;
  let store: string;
  let outside: string;
  let n = 0;

  beforeAll(() => {
    cg = new TestCgroups('image-safety');
    store = cg.tmp('images');
    outside = cg.tmp('outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'victim'), 'original\n');
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  const load = (input: string, extra: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
    runTstop(['load', '-i', input], { ...process.env, TSTOP_IMAGES: store, TSTOP_RUN_DIR: cg.tmp('state'), ...extra });

  /** A docker save tar whose one layer is this tar. */
  const archiveOf = (layer: Buffer): string => {
    const dir = cg.tmp(`archive-${++n}`);
    return tarDir(
      dockerSaveLegacyDir(dir, { layers: [layer], config: { Cmd: ['true'] }, tags: ['evil:1'] }),
      `${dir}.tar`,
    );
  };

  const expectNothingLeft = (): void => {
    for (const sub of ['layers', 'images', 'tmp']) {
      const d = path.join(store, sub);
      expect(fs.existsSync(d) ? fs.readdirSync(d) : [], sub).toEqual([]);
    }
    const tags = path.join(store, 'tags.json');
    expect(fs.existsSync(tags) ? JSON.parse(fs.readFileSync(tags, 'utf8')) : {}).toEqual({});
    expect(fs.readdirSync(outside)).toEqual(['victim']);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original\n');
  };

  const refused = async (input: string, message: RegExp, extra: NodeJS.ProcessEnv = {}): Promise<void> => {
    const r = await load(input, extra);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1); // one clear line, no stack
    expect(r.code).toBe(1);
    expectNothingLeft();
  };

  const layerOf = (entries: Entry[]): Promise<Buffer> => tarOf([{ name: 'ok', content: 'fine\n' }, ...entries]);

  it("an entry climbing out with '../'", async () => {
    await refused(
      archiveOf(await layerOf([{ name: '../../outside/evil', content: 'x' }])),
      /climbs out with '\.\.': refused/,
    );
  });

  it('an entry with an absolute path', async () => {
    await refused(
      archiveOf(await layerOf([{ name: `${outside}/evil`, content: 'x' }])),
      /is an absolute path: refused/,
    );
  });

  it('a file written through an absolute symlink made by an earlier entry', async () => {
    const layer = await layerOf([
      { name: 'escape', type: 'symlink', linkname: outside },
      { name: 'escape/evil', content: 'x' },
    ]);
    await refused(archiveOf(layer), /"escape\/evil" would be written through the symlink 'escape': refused/);
  });

  it('a file written through a relative symlink climbing out', async () => {
    const layer = await layerOf([
      { name: 'd/', type: 'directory' },
      { name: 'd/up', type: 'symlink', linkname: '../../../../../../../../..' + outside },
      { name: 'd/up/evil', content: 'x' },
    ]);
    await refused(archiveOf(layer), /would be written through the symlink 'd\/up': refused/);
  });

  it('a directory entry through a symlink, then a file in it', async () => {
    const layer = await layerOf([
      { name: 'lnk', type: 'symlink', linkname: outside },
      { name: 'lnk/sub/', type: 'directory' },
      { name: 'lnk/sub/evil', content: 'x' },
    ]);
    await refused(archiveOf(layer), /through the symlink 'lnk'/);
  });

  it('a file replacing a symlink to a host file replaces the symlink, never writes through it', async () => {
    const layer = await layerOf([
      { name: 'victim', type: 'symlink', linkname: path.join(outside, 'victim') },
      { name: 'victim', content: 'replaced inside the layer\n' },
    ]);
    const r = await load(archiveOf(layer));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original\n');
    const layerFs = path.join(store, 'layers', sha256(layer), 'fs');
    expect(fs.lstatSync(path.join(layerFs, 'victim')).isFile()).toBe(true);
    const rmi = await runTstop(['rmi', 'evil:1'], {
      ...process.env,
      TSTOP_IMAGES: store,
      TSTOP_RUN_DIR: cg.tmp('state'),
    });
    expect(rmi.code).toBe(0);
    expectNothingLeft();
  });

  it('a symlink target longer than the file system takes is one clear line, not a stack', async () => {
    const layer = await layerOf([{ name: 'long', type: 'symlink', linkname: 'x/'.repeat(3000) }]);
    await refused(archiveOf(layer), /"?long"?.*(ENAMETOOLONG|name too long)/i);
  });

  it('a whiteout then entries under the same name: a directory of this layer that hides the lower one', async () => {
    const layer = await layerOf([
      { name: '.wh.d', content: '' },
      { name: 'd/x', content: 'new\n' },
    ]);
    const r = await load(archiveOf(layer));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = path.join(store, 'layers', sha256(layer), 'fs', 'd');
    expect(fs.lstatSync(d).isDirectory()).toBe(true);
    expect(lgetxattr(d, 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(fs.readFileSync(path.join(d, 'x'), 'utf8')).toBe('new\n');
    expect(
      (await runTstop(['rmi', 'evil:1'], { ...process.env, TSTOP_IMAGES: store, TSTOP_RUN_DIR: cg.tmp('state') })).code,
    ).toBe(0);
    expectNothingLeft();
  });

  it('hardlinks to outside the layer (relative, absolute) or to nothing in it', async () => {
    await refused(
      archiveOf(await layerOf([{ name: 'hl', type: 'link', linkname: '../../../etc/passwd' }])),
      /climbs out/,
    );
    await refused(archiveOf(await layerOf([{ name: 'hl', type: 'link', linkname: '/etc/passwd' }])), /absolute path/);
    await refused(
      archiveOf(await layerOf([{ name: 'hl', type: 'link', linkname: 'etc/passwd' }])),
      /hardlink to 'etc\/passwd', which is not an earlier entry of it: refused/,
    );
    await refused(
      archiveOf(
        await layerOf([
          { name: 'lnk', type: 'symlink', linkname: outside },
          { name: 'hl', type: 'link', linkname: 'lnk/victim' },
        ]),
      ),
      /not an earlier entry/,
    );
  });

  it('device nodes', async () => {
    const layer = await layerOf([{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0, mode: 0o666 }]);
    await refused(archiveOf(layer), /"dev\/sda" is a device node \(block-device 8:0\).*: refused/);
    const mem = await layerOf([{ name: 'mem', type: 'character-device', devmajor: 1, devminor: 1, mode: 0o666 }]);
    await refused(archiveOf(mem), /is a device node \(character-device 1:1\)/);
  });

  it("overlayfs's own xattrs in a layer (trusted.overlay.*)", async () => {
    const layer = await layerOf([
      { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } },
    ]);
    await refused(archiveOf(layer), /carries the xattr trusted\.overlay\.redirect, which only tstop may set: refused/);
  });

  it('a truncated layer tar', async () => {
    const good = await tarOf([{ name: 'big', content: Buffer.alloc(20_000, 7) }]);
    await refused(archiveOf(good.subarray(0, 8_192)), /not a complete tar/);
  });

  it('a layer over TSTOP_IMAGE_MAX_LAYER_BYTES', async () => {
    const big = await tarOf([{ name: 'big', content: Buffer.alloc(64 * 1024, 1) }]);
    await refused(archiveOf(big), /larger than 16384 bytes uncompressed: refused/, {
      TSTOP_IMAGE_MAX_LAYER_BYTES: '16384',
    });
  });

  it("a layer that is not the config's diff_id, a config that is not its name, a blob that is not its digest", async () => {
    const layer = await layerOf([]);
    const other = await tarOf([{ name: 'other', content: 'x' }]);
    // The config names `other`; the archive carries `layer`.
    const dir = cg.tmp(`archive-${++n}`);
    dockerSaveLegacyDir(dir, { layers: [other], config: {}, tags: ['evil:1'] });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Array<{
      Layers: string[];
    }>;
    fs.writeFileSync(path.join(dir, manifest[0].Layers[0]), layer);
    await refused(
      tarDir(dir, `${dir}.tar`),
      /the tar's sha256 is [0-9a-f]{64}, not the diff_id sha256:[0-9a-f]{64} of the image config: refused/,
    );

    const spec: ImageSpec = { layers: [layer], config: {}, tags: ['evil:1'] };
    const dir2 = cg.tmp(`archive-${++n}`);
    dockerSaveLegacyDir(dir2, spec);
    fs.appendFileSync(path.join(dir2, `${sha256(configOf(spec))}.json`), ' ');
    await refused(tarDir(dir2, `${dir2}.tar`), /its sha256 is [0-9a-f]{64}, not the one its name says: refused/);

    const oci = ociLayoutDir(cg.tmp(`archive-${++n}`), spec);
    const blob = path.join(oci, 'blobs', 'sha256', sha256(zlib.gzipSync(layer)));
    fs.writeFileSync(blob, zlib.gzipSync(Buffer.concat([layer.subarray(0, 512), Buffer.alloc(1024)])));
    await refused(oci, /its sha256 is [0-9a-f]{64}, not the [0-9a-f]{64} the archive names: refused/);
  });

  it('manifest paths leaving the archive: .., absolute, a symlink to outside', async () => {
    const layer = await layerOf([]);
    const make = (edit: (dir: string, m: Array<{ Config: string; Layers: string[] }>) => void): string => {
      const dir = cg.tmp(`archive-${++n}`);
      dockerSaveLegacyDir(dir, { layers: [layer], config: {}, tags: ['evil:1'] });
      const file = path.join(dir, 'manifest.json');
      const m = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<{ Config: string; Layers: string[] }>;
      edit(dir, m);
      fs.writeFileSync(file, JSON.stringify(m));
      return tarDir(dir, `${dir}.tar`);
    };
    const src = cg.tmp('outside-src');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'layer.tar'), layer);
    await refused(
      make((_d, m) => (m[0].Layers[0] = `../../../../../../../..${src}/layer.tar`)),
      /climbs out with '\.\.': refused/,
    );
    await refused(
      make((_d, m) => (m[0].Layers[0] = `${src}/layer.tar`)),
      /is an absolute path: refused/,
    );
    await refused(
      make((d, m) => {
        fs.symlinkSync(`${src}/layer.tar`, path.join(d, 'link.tar'));
        m[0].Layers[0] = 'link.tar';
      }),
      /link\.tar: a symlink to the absolute path .*: refused/,
    );
    await refused(
      make((d, m) => {
        fs.symlinkSync('../outside-src/layer.tar', path.join(d, 'up.tar'));
        m[0].Layers[0] = 'up.tar';
      }),
      /up\.tar: a symlink leading out of the archive: refused/,
    );
  });

  it('a huge manifest.json is refused before it is parsed', async () => {
    const dir = cg.tmp(`archive-${++n}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'manifest.json'), `[${' '.repeat(5 * 1024 * 1024)}]`);
    await refused(
      tarDir(dir, `${dir}.tar`),
      /manifest\.json is 5242882 bytes, over the 4194304 a manifest or config may be: refused/,
    );
  });

  it('an archive entry climbing out of the unpack directory', async () => {
    const file = cg.tmp(`archive-${++n}.tar`);
    fs.writeFileSync(file, await tarOf([{ name: '../../../outside/evil', content: 'x' }]));
    await refused(file, /climbs out with '\.\.': refused/);
  });
});
