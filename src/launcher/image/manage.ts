// `tstop images` and `tstop rmi`: the store's images listed, and removed
// when no container uses them (a container's overlay needs its image's
// layers until `tstop rm`, exited or not, as docker's do).

import { formatBytes, renderTable } from '../../util/format.js';
import { listNames, readState, runDir } from '../state.js';
import { ImageError } from './errors.js';
import { ImageStore, resolveImage, tagsOf, type ImageRecord } from './store.js';

export interface ImageRow {
  tag: string;
  id: string;
  created: string | null;
  sizeBytes: number;
  exposedPorts: string[];
}

export function imageRows(store: ImageStore): ImageRow[] {
  const tags = store.tags();
  const rows: ImageRow[] = [];
  for (const r of store.images()) {
    const names = tagsOf(store, r.id, tags);
    for (const tag of names.length > 0 ? names : ['<none>:<none>']) {
      rows.push({
        tag,
        id: r.id,
        created: r.created,
        sizeBytes: r.sizeBytes,
        exposedPorts: Object.keys(r.config.ExposedPorts ?? {}).sort(),
      });
    }
  }
  return rows.sort((a, b) => a.tag.localeCompare(b.tag) || a.id.localeCompare(b.id));
}

function ago(iso: string | null, now: number): string {
  const t = iso === null ? NaN : Date.parse(iso);
  if (!Number.isFinite(t)) return '-';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const units: [number, string][] = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [7 * 86400, 'week'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [n, u] of units) if (s >= n) return `${Math.floor(s / n)} ${u}${Math.floor(s / n) > 1 ? 's' : ''} ago`;
  return 'just now';
}

export function imagesTable(rows: ImageRow[], now = Date.now()): string {
  return renderTable(
    ['IMAGE', 'ID', 'CREATED', 'SIZE', 'EXPOSED'],
    rows.map((r) => [
      r.tag,
      r.id.slice(7, 19),
      ago(r.created, now),
      formatBytes(r.sizeBytes),
      r.exposedPorts.join(',') || '-',
    ]),
    [false, false, false, true],
  );
}

/** Names of the containers (any state, until tstop rm) whose overlay uses the image. */
export function containersUsing(id: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const dir = runDir(env);
  return listNames(dir).filter((n) => readState(dir, n)?.imageId === id);
}

/**
 * `tstop rmi REF`: a tag is removed; the image (record and the layers no
 * other image uses) goes when no tag is left or it was named by id, unless
 * a container uses it. Returns docker's lines (Untagged:, Deleted:).
 */
export function removeImage(store: ImageStore, ref: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!store.exists()) throw new ImageError(`no image '${ref}' in ${store.dir} (the store is empty)`);
  return store.locked(() => {
    const { record, tag } = resolveImage(store, ref);
    const tags = store.tags();
    const remaining = tagsOf(store, record.id, tags).filter((t) => t !== tag);
    const lines: string[] = [];
    const deleting = tag === null || remaining.length === 0;
    if (deleting) {
      // Hidden first, then the containers looked up: a `run` that reserved its state (naming the image) before
      // is seen here; one that reserves it after finds the image gone when it checks (image/run.ts prepareOverlay).
      store.hideImage(record.id);
      const users = containersUsing(record.id, env);
      if (users.length > 0) {
        store.unhideImage(record.id);
        throw new ImageError(
          `image ${tag ?? record.id.slice(7, 19)} is used by the container${users.length > 1 ? 's' : ''} ${users.join(', ')}: tstop rm ${users.length > 1 ? 'them' : 'it'} first`,
        );
      }
    }
    for (const t of tag === null ? tagsOf(store, record.id, tags) : [tag]) {
      delete tags[t];
      lines.push(`Untagged: ${t}`);
    }
    store.writeTags(tags);
    if (deleting) {
      lines.push(`Deleted: ${record.id}`);
      for (const hex of store.removeImage(record.id)) lines.push(`Deleted layer: sha256:${hex}`);
    }
    return lines;
  });
}

export type { ImageRecord };
