// Image references, the store's records and tags, and the run flags of
// --image: pure parts, no root needed (test/integration/launcher-image*.test.ts
// load and run real images).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/command.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { parseRunFlags } from '../../src/cli/run.js';
import { entryParts } from '../../src/launcher/image/tree.js';
import {
  ImageStore,
  imageStoreDir,
  normalizeTag,
  resolveImage,
  type ImageRecord,
} from '../../src/launcher/image/store.js';
import { imageRows, imagesTable } from '../../src/launcher/image/manage.js';
import { UsageError } from '../../src/util/errors.js';

const run = (args: string[]): ReturnType<typeof parseRunFlags> => {
  const { flags, positionals } = parseCommandLine(runCommand, args);
  return parseRunFlags(flags, positionals, 0);
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function record(hex: string, extra: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: `sha256:${hex}`,
    layers: [],
    created: '2026-01-01T00:00:00Z',
    loaded: '2026-01-02T00:00:00Z',
    sizeBytes: 1536,
    architecture: 'amd64',
    os: 'linux',
    config: { ExposedPorts: { '80/tcp': {}, '53/udp': {} } },
    ...extra,
  };
}

describe('image references', () => {
  it('NAME gets :latest; docker.io/library/ is dropped; a registry port is not a tag', () => {
    expect(normalizeTag('busybox')).toBe('busybox:latest');
    expect(normalizeTag('busybox:1.36')).toBe('busybox:1.36');
    expect(normalizeTag('docker.io/library/alpine:3')).toBe('alpine:3');
    expect(normalizeTag('registry.local:5000/team/app')).toBe('registry.local:5000/team/app:latest');
    expect(normalizeTag('registry.local:5000/team/app:v2')).toBe('registry.local:5000/team/app:v2');
  });

  it('refuses what is not a reference (exit 2)', () => {
    for (const bad of ['Busybox', 'a b', 'x:', 'x:-tag', '../x', '']) {
      expect(() => normalizeTag(bad), bad).toThrow(/is not an image name|is not a tag/);
    }
  });

  it('resolves tags, full ids and unique id prefixes; says there is no pull', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-image-unit-'));
    dirs.push(dir);
    const store = new ImageStore(dir).init();
    const a = 'a'.repeat(63) + '1';
    const b = 'a'.repeat(63) + '2';
    store.writeImage(record(a));
    store.writeImage(record(b));
    store.writeTags({ 'web:1': `sha256:${a}` });
    expect(resolveImage(store, 'web:1')).toMatchObject({ tag: 'web:1', record: { id: `sha256:${a}` } });
    expect(resolveImage(store, `sha256:${b}`).record.id).toBe(`sha256:${b}`);
    expect(resolveImage(store, b.slice(0, 64)).tag).toBeNull();
    expect(() => resolveImage(store, 'aaaa')).toThrow(/matches 2 images/);
    expect(() => resolveImage(store, 'web:2')).toThrow(/no image 'web:2' .*there is no pull/);
    expect(store.hideImage(`sha256:${a}`)).toBe(true);
    expect(() => resolveImage(store, 'web:1')).toThrow(/no image 'web:1'/);
    store.unhideImage(`sha256:${a}`);
    const rows = imageRows(store);
    expect(rows.map((r) => r.tag)).toEqual(['<none>:<none>', 'web:1']);
    expect(rows[1].exposedPorts).toEqual(['53/udp', '80/tcp']);
    expect(imagesTable(rows, Date.parse('2026-01-03T00:00:00Z')).split('\n')[2]).toMatch(
      /^web:1\s+aaaaaaaaaaaa\s+2 days ago\s+1\.50KiB\s+53\/udp,80\/tcp$/,
    );
  });

  it('the store path must be absolute and usable in overlay options', () => {
    expect(imageStoreDir(undefined, {})).toBe('/var/lib/tstop/images');
    expect(imageStoreDir(undefined, { TSTOP_IMAGES: '/srv/img/' })).toBe('/srv/img/');
    expect(() => imageStoreDir('rel/dir', {})).toThrow(/must be an absolute path/);
    expect(() => imageStoreDir('/srv/a,b', {})).toThrow(/may not contain/);
    expect(() => imageStoreDir('/srv/a:b', {})).toThrow(/may not contain/);
  });
});

describe('tar entry names', () => {
  it('split into components; ./ and // dropped; .., absolute and NUL refused', () => {
    expect(entryParts('./usr//bin/./sh', 'x')).toEqual(['usr', 'bin', 'sh']);
    expect(entryParts('./', 'x')).toEqual([]);
    expect(() => entryParts('a/../../b', 'x')).toThrow(/climbs out/);
    expect(() => entryParts('..', 'x')).toThrow(/climbs out/);
    expect(() => entryParts('/etc/passwd', 'x')).toThrow(/absolute path/);
    expect(() => entryParts('a\0b', 'x')).toThrow(/NUL/);
    expect(() => entryParts(`${'a'.repeat(256)}/b`, 'x')).toThrow(/over 255 bytes/);
  });
});

describe('run --image flags', () => {
  it('the command is optional with --image; the image and its store are passed on', () => {
    const o = run(['--image', 'busybox', '--image-store', '/srv/images']);
    expect(o.argv).toEqual([]);
    expect(o.image).toBe('busybox');
    expect(o.imageStore).toBe('/srv/images');
    expect(run(['--image', 'busybox', '--', 'sh', '-c', 'x']).argv).toEqual(['sh', '-c', 'x']);
    expect(run(['--image', 'busybox', '--read-only', '-v', '/tmp:/data']).readOnly).toBe(true);
  });

  it('--image with --rootfs or --userns, and no command without --image, are usage errors', () => {
    expect(() => run(['--image', 'x', '--rootfs', '/srv/r', '--', 'true'])).toThrow(UsageError);
    expect(() => run(['--image', 'x', '--rootfs', '/srv/r', '--', 'true'])).toThrow(/mutually exclusive/);
    expect(() => run(['--image', 'x', '--userns', '100000:65536'])).toThrow(/--userns is not supported yet/);
    expect(() => run([])).toThrow(/give the command/);
    expect(() => run(['--entrypoint', 'sh', '--', 'x'])).toThrow(/--entrypoint needs --image/);
    expect(run(['--image', 'x', '--entrypoint', '']).entrypoint).toBe('');
  });
});
