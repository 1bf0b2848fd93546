// Launch latency of `tstop run --image` (an overlay of the image's layers
// mounted in the container's namespace, a fresh upper dir per container)
// next to `--rootfs` on the same busybox tree (a bind mount) and the host's
// root, interleaved. The image is a one-layer busybox-static docker save
// directory made here and loaded with `tstop load` into a temporary store.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import tarStream from 'tar-stream';

const RUNS = 21;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function busyboxLayer(busybox: string): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  type HeaderArg = Parameters<typeof pack.entry>[0];
  const add = (header: HeaderArg, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body) pack.entry(header, body, cb);
      else pack.entry(header, cb);
    });
  await add({ name: 'bin/', type: 'directory', mode: 0o755 });
  await add({ name: 'bin/busybox', mode: 0o755 }, fs.readFileSync(busybox));
  await add({ name: 'bin/true', type: 'symlink', linkname: 'busybox' });
  for (const d of ['proc', 'sys', 'dev', 'tmp']) await add({ name: `${d}/`, type: 'directory', mode: 0o755 });
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

export async function benchImage(bin: string, env: NodeJS.ProcessEnv, tmp: string): Promise<string[]> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!busybox) return ['launch --image: skipped (no busybox: apt-get install busybox-static)'];
  const layer = await busyboxLayer(busybox);
  const config = Buffer.from(
    JSON.stringify({
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
    }),
  );
  const save = path.join(tmp, 'image-save');
  fs.mkdirSync(path.join(save, 'layer'), { recursive: true });
  fs.writeFileSync(path.join(save, 'layer', 'layer.tar'), layer);
  fs.writeFileSync(path.join(save, `${sha256(config)}.json`), config);
  fs.writeFileSync(
    path.join(save, 'manifest.json'),
    JSON.stringify([{ Config: `${sha256(config)}.json`, RepoTags: ['bench/busybox:1'], Layers: ['layer/layer.tar'] }]),
  );
  const imageEnv = { ...env, TSTOP_IMAGES: path.join(tmp, 'images') };
  const load = spawnSync(bin, ['load', '-i', save], { env: imageEnv, encoding: 'utf8' });
  if (load.status !== 0) throw new Error(`tstop load: ${load.stderr}`);
  // The same tree as a plain rootfs directory: what the overlay replaces.
  const rootfs = path.join(tmp, 'image-rootfs');
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync(busybox, path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'true'));

  const commands: Record<string, string[]> = {
    host: [bin, 'run', '--rm', '--', '/bin/true'],
    rootfs: [bin, 'run', '--rm', '--rootfs', rootfs, '--', '/bin/true'],
    image: [bin, 'run', '--rm', '--image', 'bench/busybox:1'],
  };
  const times: Record<string, number[]> = { host: [], rootfs: [], image: [] };
  const timed = (cmd: string[]): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0], cmd.slice(1), { env: imageEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (const c of Object.values(commands)) timed(c); // warm caches
  for (let i = 0; i < RUNS; i++) for (const [k, c] of Object.entries(commands)) times[k].push(timed(c));
  const m = (k: string): string => median(times[k]).toFixed(1);
  return [
    `launch --image: tstop run --image (overlay, 1 layer) ${m('image')} ms, --rootfs (bind) ${m('rootfs')} ms, host root ${m('host')} ms; overlay over bind ${(median(times.image) - median(times.rootfs)).toFixed(1)} ms (medians of ${RUNS} interleaved runs, --rm)`,
  ];
}
