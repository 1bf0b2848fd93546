// `tstop run --image REF`: the image's config applied as docker applies it
// (Entrypoint + Cmd, COMMAND replacing Cmd; Env under -e; WorkingDir and
// User unless -w/-u), and the container's overlay: the image's layers as
// read-only lowerdirs, an upper and a work directory of its own in the run
// directory (<run dir>/<name>.fs/, removed with the container's state). The
// helper mounts the overlay inside the container's own mount namespace, so
// nothing is mounted on the host and nothing stays mounted after a kill -9.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../util/errors.js';
import { resolveUser, type RunOptions } from '../options.js';
import { readFileInRoot, RootFileError } from '../root-files.js';
import { LaunchError } from '../state.js';
import { ImageError } from './errors.js';
import { ImageStore, imageStoreDir, resolveImage } from './store.js';

/** The kernel takes mount options up to a page. */
const MAX_MOUNT_DATA = 4095;

export interface ImageLaunch {
  /** The options with the image's config applied and rootfs at the overlay's mount point. */
  opts: RunOptions;
  imageId: string;
  /** NAME:TAG as asked, or the short id. */
  display: string;
  /** Lowerdirs, top layer first. */
  lowerDirs: string[];
  exposedPorts: string[];
}

/** The container's overlay directories. */
export function containerFsDirs(
  runDirPath: string,
  name: string,
): { base: string; upper: string; work: string; merged: string } {
  const base = path.join(runDirPath, `${name}.fs`);
  return { base, upper: path.join(base, 'upper'), work: path.join(base, 'work'), merged: path.join(base, 'merged') };
}

/** A user's etc file from the image's layers, top first; a whiteout or anything not a regular file hides it. */
function layeredReader(lowerDirs: string[]): (rel: string) => string | null {
  return (rel) => {
    for (const dir of lowerDirs) {
      try {
        const text = readFileInRoot(dir, rel);
        if (text !== null) return text;
      } catch (err) {
        if (err instanceof RootFileError) return null;
        throw err;
      }
    }
    return null;
  };
}

function checkEnv(list: string[], ref: string): string[] {
  for (const e of list) {
    const eq = e.indexOf('=');
    if (eq <= 0 || e.includes('\0'))
      throw new LaunchError(`image ${ref}: its Env entry ${JSON.stringify(e)} is not NAME=VALUE`);
  }
  return list;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function imageLaunch(opts: RunOptions, runDirPath: string, env: NodeJS.ProcessEnv = process.env): ImageLaunch {
  const ref = opts.image as string;
  const store = new ImageStore(imageStoreDir(opts.imageStore, env));
  let found: ReturnType<typeof resolveImage>;
  try {
    found = resolveImage(store, ref);
  } catch (err) {
    // A missing image fails the launch (125, as docker run's "Unable to find image"); a malformed name stays a usage error.
    if (err instanceof ImageError && err.exitCode !== 2) throw new LaunchError(err.message);
    throw err;
  }
  const { record, tag } = found;
  const display = tag ?? record.id.slice(7, 19);
  for (const hex of record.layers) {
    if (!store.hasLayer(hex))
      throw new LaunchError(`image ${display}: layer sha256:${hex} is missing from ${store.dir}`);
  }
  // Top first; a layer present twice (empty layers share a diff_id) is kept at its top place: the same tree.
  const lowerDirs = [...new Set([...record.layers].reverse())].map((h) => store.layerFs(h));
  const c = record.config;
  // --entrypoint replaces Entrypoint and resets Cmd (docker's rule); COMMAND replaces Cmd.
  const entrypoint =
    opts.entrypoint === undefined ? strings(c.Entrypoint) : opts.entrypoint === '' ? [] : [opts.entrypoint];
  const cmd = opts.entrypoint === undefined ? strings(c.Cmd) : [];
  const argv = [...entrypoint, ...(opts.argv.length > 0 ? opts.argv : cmd)];
  if (argv.length === 0) {
    throw new UsageError(
      `image ${display} has no Entrypoint or Cmd: give the command (tstop run --image ${ref} -- COMMAND)`,
    );
  }
  const userText = opts.user ?? (c.User || undefined);
  let user = userText;
  if (userText !== undefined && !/^\d+(:\d+)?$/.test(userText)) {
    const u = resolveUser(userText, `image ${display}`, layeredReader(lowerDirs));
    user = u ? `${u.uid}:${u.gid ?? u.uid}` : undefined;
  }
  const workdir = opts.workdir ?? (c.WorkingDir ? c.WorkingDir : undefined);
  if (workdir !== undefined && !path.isAbsolute(workdir))
    throw new LaunchError(`image ${display}: WorkingDir '${workdir}' is not absolute`);
  return {
    opts: {
      ...opts,
      argv,
      env: [...checkEnv(strings(c.Env), display), ...opts.env],
      user,
      workdir,
      rootfs: containerFsDirs(runDirPath, opts.name).merged,
    },
    imageId: record.id,
    display,
    lowerDirs,
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
  };
}

/**
 * After the name is reserved (the state names the image, so rmi refuses
 * it from here on): checks that the image is still there (rmi hides it
 * before it looks for containers, so either rmi sees this state or this
 * check sees the image gone; no lock, which would cost `run` koffi's load),
 * makes the container's directories and returns the overlay's mount
 * options for the helper.
 */
export function prepareOverlay(
  launch: ImageLaunch,
  runDirPath: string,
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const store = new ImageStore(imageStoreDir(launch.opts.imageStore, env));
  if (store.readImage(launch.imageId) === null || !launch.lowerDirs.every((d) => fs.existsSync(d))) {
    throw new LaunchError(`image ${launch.display} was removed meanwhile`);
  }
  const d = containerFsDirs(runDirPath, name);
  fs.mkdirSync(d.base, { mode: 0o700 });
  fs.mkdirSync(d.upper, { mode: 0o755 });
  fs.mkdirSync(d.work, { mode: 0o700 });
  fs.mkdirSync(d.merged, { mode: 0o755 });
  for (const p of [...launch.lowerDirs, d.upper, d.work]) {
    if (/[,:\\\s]/.test(p)) throw new LaunchError(`${p}: overlayfs cannot take a path with ',', ':', '\\' or spaces`);
  }
  const data = `lowerdir=${launch.lowerDirs.join(':')},upperdir=${d.upper},workdir=${d.work}`;
  if (data.length > MAX_MOUNT_DATA) {
    throw new LaunchError(
      `image ${launch.display}: ${launch.lowerDirs.length} layers make overlay options longer than a page (${data.length} bytes); use a shorter --image-store path`,
    );
  }
  return data;
}
