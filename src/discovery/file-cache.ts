// Reading the runtimes' state files: one stat per call, read and parse only
// when (ino, mtime, size) changed. Every state file tstop reads goes through
// FileCache, which never throws and remembers what it could not read so the
// caller can put it in a note.

import { lstatSync, readdirSync } from 'node:fs';
import { MAX_STATE_FILE_BYTES, readStateFile, SkippedFile, SYMLINK_SKIPPED, tooLarge } from './state-file.js';
import { isRecord } from './json.js';

/** A single, harmless path component (no "/", not "." or ".."). */
export function safeComponent(s: string | null | undefined): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.@:+-]*$/.test(s) && s !== '.' && s !== '..';
}

function errorCode(e: unknown): string {
  if (isRecord(e) && typeof e.code === 'string') return e.code;
  return e instanceof Error ? e.message : String(e);
}

interface CacheEntry {
  ino: number;
  mtimeMs: number;
  size: number;
  value: unknown;
  usedAt: number;
}

// State files are read only as regular files up to a size cap (state-file.ts).
export class FileCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly issues = new Map<string, string>();
  private generation = 0;
  /** Counters, for tests and the bench: stat calls, and reads that parsed a file. */
  readonly counters = { stats: 0, reads: 0 };

  /**
   * Parsed content of `path`, or null when it is missing, unreadable or
   * parse() rejects it. parse may throw (invalid JSON): that is caught.
   * `tag` keeps two parsers of the same path apart.
   */
  read<T>(path: string, tag: string, parse: (text: string) => T | null): T | null {
    const key = `${tag}\0${path}`;
    this.counters.stats++;
    let st;
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch (e) {
      this.forget(key, path, errorCode(e));
      return null;
    }
    if (st === undefined || st.isDirectory()) {
      this.forget(key, path, null);
      return null;
    }
    if (st.isSymbolicLink()) {
      this.forget(key, path, SYMLINK_SKIPPED);
      return null;
    }
    if (!st.isFile()) {
      this.forget(key, path, 'skipped: not a regular file');
      return null;
    }
    if (st.size > MAX_STATE_FILE_BYTES) {
      this.forget(key, path, tooLarge(st.size));
      return null;
    }
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.ino === st.ino && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
      hit.usedAt = this.generation;
      return hit.value as T | null;
    }
    let text: string;
    try {
      text = readStateFile(path);
      this.counters.reads++;
    } catch (e) {
      this.forget(
        key,
        path,
        e instanceof SkippedFile ? e.message : errorCode(e) === 'ELOOP' ? SYMLINK_SKIPPED : errorCode(e),
      );
      return null;
    }
    let value: T | null;
    try {
      value = parse(text);
      if (value === null) this.issues.set(path, 'unexpected format');
      else this.issues.delete(path);
    } catch (e) {
      value = null;
      this.issues.set(path, e instanceof SyntaxError ? 'invalid JSON' : `unparsable (${errorCode(e)})`);
    }
    // A corrupt file is remembered too, so it is not re-read until it changes.
    this.entries.set(key, { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, value, usedAt: this.generation });
    return value;
  }

  readJson<T>(path: string, tag: string, parse: (raw: unknown) => T | null): T | null {
    return this.read(path, tag, (text) => parse(JSON.parse(text) as unknown));
  }

  /** Directory entries, [] when missing or unreadable (noted unless missing). */
  list(dir: string): string[] {
    try {
      const names = readdirSync(dir);
      this.issues.delete(dir);
      return names.sort();
    } catch (e) {
      const code = errorCode(e);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.issues.set(dir, code);
      else this.issues.delete(dir);
      return [];
    }
  }

  private forget(key: string, path: string, issue: string | null): void {
    this.entries.delete(key);
    if (issue === null || issue === 'ENOENT' || issue === 'ENOTDIR') this.issues.delete(path);
    else this.issues.set(path, issue);
  }

  /** Files that exist but could not be read or parsed: "path: reason". */
  problems(): string[] {
    return [...this.issues.entries()].map(([p, why]) => `${p}: ${why}`).sort();
  }

  /** Drop entries not used since the previous sweep (containers that went away). */
  sweep(): void {
    for (const [key, e] of this.entries) if (e.usedAt < this.generation) this.entries.delete(key);
    this.generation++;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The cache the read* functions use when the caller passes none. */
export const sharedCache = new FileCache();
