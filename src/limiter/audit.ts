// The audit log: append-only JSON Lines, one complete record per line, each
// written with a single write(2) on an O_APPEND descriptor and fsynced
// before the caller goes on. A change is logged twice: as 'pending' before
// the first cgroup write, and with its result ('applied', 'rolled-back')
// once known, so a crash can never leave an unlogged change: a later run
// finds the pending record of a dead process and restores the old values
// ('interrupted'). The last record for an id is that change's state.
//
// A torn last line (a crash or power loss in the middle of an append) is
// ignored on read, and cut off before the next append, which first logs a
// 'repair' record saying how many bytes were dropped.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockExclusive } from '../util/flock.js';
import { loadCrypto } from '../util/lazy-builtins.js';
import { LimitError, type ChangeRecord } from './api.js';
import { errnoWords } from './safety.js';

export const DEFAULT_AUDIT_LOG = '/var/log/tstop/audit.jsonl';

export interface RepairRecord {
  type: 'repair';
  v: 1;
  time: string;
  droppedBytes: number;
  note: string;
}

export type AuditLine = ChangeRecord | RepairRecord;

/** --audit-log, else TSTOP_AUDIT_LOG, else the default. */
export function auditLogPath(flag?: string): string {
  const p = flag ?? process.env.TSTOP_AUDIT_LOG ?? DEFAULT_AUDIT_LOG;
  if (p === '' || /[\x00]/.test(p)) throw new LimitError(`audit log path '${p}' is not a file name`, 2, 'invalid');
  return path.resolve(p);
}

function octal(mode: number): string {
  return '0' + (mode & 0o7777).toString(8);
}

function writers(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const others = (mode & 0o002) !== 0;
  return group && others ? 'its group and others' : group ? 'its group' : 'others';
}

function runningUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? -1;
}

/**
 * Refuses a file tstop trusts (the audit log, a lock file) unless the user
 * running tstop owns it and nobody else may write it: recovery acts on the
 * log's pending records, so whoever can write the log could make the next
 * `tstop limit` write values of their choosing.
 */
export function checkPrivateFile(st: fs.Stats, file: string, what: string): void {
  const uid = runningUid();
  if (st.uid !== uid) {
    throw new LimitError(
      `refusing ${what} ${file}: it is owned by uid ${st.uid}, not by uid ${uid} who runs tstop; nothing was changed`,
      2,
      'refused',
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw new LimitError(
      `refusing ${what} ${file}: it is writable by ${writers(st.mode)} (mode ${octal(st.mode)}); chmod go-w it; nothing was changed`,
      2,
      'refused',
    );
  }
}

/** The same rule for the directory that holds such a file (whoever can write it can replace the file). */
export function checkPrivateDir(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (err) {
    throw new LimitError(`cannot use ${what} ${dir}: ${errnoWords(err)}`, 1, 'failed');
  }
  if (!st.isDirectory()) throw new LimitError(`refusing ${what} ${dir}: it is not a directory`, 2, 'refused');
  checkPrivateFile(st, dir, what);
}

/** A short change id: 12 hex digits (docker-like; `undo` takes a unique prefix). */
export function newChangeId(): string {
  return loadCrypto().randomBytes(6).toString('hex');
}

export interface ReadResult {
  lines: AuditLine[];
  /** Bytes of a torn last line (no newline or not JSON), ignored. */
  tornBytes: number;
  /** 1-based numbers of lines in the middle that are not valid records (should never happen). */
  badLines: number[];
}

function isAuditLine(v: unknown): v is AuditLine {
  if (!v || typeof v !== 'object') return false;
  const r = v as { type?: unknown; v?: unknown; id?: unknown };
  return (r.type === 'change' && typeof r.id === 'string') || r.type === 'repair';
}

/** Parses the log's text; pure. */
export function parseAuditText(text: string): ReadResult {
  const lines: AuditLine[] = [];
  const badLines: number[] = [];
  let tornBytes = 0;
  const parts = text.split('\n');
  const complete = parts.slice(0, -1);
  const tail = parts[parts.length - 1];
  if (tail !== '') tornBytes = Buffer.byteLength(tail);
  complete.forEach((line, i) => {
    if (line === '') return;
    try {
      const v: unknown = JSON.parse(line);
      if (isAuditLine(v)) lines.push(v);
      else badLines.push(i + 1);
    } catch {
      badLines.push(i + 1);
    }
  });
  return { lines, tornBytes, badLines };
}

/** The latest state of each change, in the order the changes were first logged. */
export function latestChanges(lines: readonly AuditLine[]): ChangeRecord[] {
  const byId = new Map<string, ChangeRecord>();
  for (const l of lines) if (l.type === 'change') byId.set(l.id, l);
  return [...byId.values()];
}

export class AuditLog {
  constructor(readonly file: string) {}

  read(): ReadResult {
    let text: string;
    try {
      const fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const st = fs.fstatSync(fd);
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
        checkPrivateFile(st, this.file, 'the audit log');
        checkPrivateDir(path.dirname(this.file), "the audit log's directory");
        text = fs.readFileSync(fd, 'utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if (err instanceof LimitError) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], tornBytes: 0, badLines: [] };
      throw new LimitError(`cannot read the audit log ${this.file}: ${errnoWords(err)}`, 1, 'failed');
    }
    return parseAuditText(text);
  }

  changes(): ChangeRecord[] {
    return latestChanges(this.read().lines);
  }

  /**
   * Appends one record and fsyncs it. Throws (with the errno in words) when
   * it cannot; the caller then restores what it changed. A log or directory
   * that another user owns or may write is refused (checkPrivateFile).
   */
  append(record: AuditLine): void {
    const line = Buffer.from(JSON.stringify(record) + '\n');
    const dir = path.dirname(this.file);
    let createdDir = false;
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o750 });
      createdDir = true;
    }
    checkPrivateDir(dir, "the audit log's directory");
    const fd = fs.openSync(
      this.file,
      fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
      0o640,
    );
    try {
      const st0 = fs.fstatSync(fd);
      if (!st0.isFile()) throw Object.assign(new Error(`${this.file} is not a regular file`), { code: 'EINVAL' });
      checkPrivateFile(st0, this.file, 'the audit log');
      // Appends from several tstop processes are whole lines already (O_APPEND, one write);
      // the lock keeps one from cutting a 'torn' tail that is another's append in flight.
      lockExclusive(fd);
      const st = fs.fstatSync(fd);
      const dropped = this.repairTornTail(fd, st.size);
      if (dropped > 0) {
        const repair: RepairRecord = {
          type: 'repair',
          v: 1,
          time: new Date().toISOString(),
          droppedBytes: dropped,
          note: 'a torn last line (an append cut short by a crash) was removed',
        };
        writeAll(fd, Buffer.from(JSON.stringify(repair) + '\n'));
      }
      const before = fs.fstatSync(fd).size;
      try {
        writeAll(fd, line);
      } catch (err) {
        // never leave half a record behind
        try {
          fs.ftruncateSync(fd, before);
        } catch {
          // the next append repairs it
        }
        throw err;
      }
      fs.fsyncSync(fd);
      if (st.size === 0 || createdDir) fsyncDir(dir);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Cuts a last line that has no newline; returns the bytes dropped. */
  private repairTornTail(fd: number, size: number): number {
    if (size === 0) return 0;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, size - 1);
    if (last[0] === 0x0a) return 0;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    let keep = 0;
    search: while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = fs.readSync(fd, chunk, 0, end - start, start);
      for (let i = n - 1; i >= 0; i--) {
        if (chunk[i] === 0x0a) {
          keep = start + i + 1;
          break search;
        }
      }
      end = start;
    }
    fs.ftruncateSync(fd, keep);
    fs.fsyncSync(fd);
    return size - keep;
  }
}

function writeAll(fd: number, buf: Buffer): void {
  // One write(2): O_APPEND makes it land whole at the end. A short write is an error.
  const n = fs.writeSync(fd, buf, 0, buf.length);
  if (n !== buf.length)
    throw Object.assign(new Error(`short write to the audit log (${n} of ${buf.length} bytes)`), { code: 'EIO' });
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // some filesystems refuse fsync on a directory: the file itself is synced
  }
}

/** Start time of a process (clock ticks after boot, /proc/PID/stat field 22), null if it does not exist. */
export function processStart(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** Whether the process that wrote a record still runs (same pid and start time). */
export function writerAlive(record: Pick<ChangeRecord, 'pid' | 'pidStart' | 'host'>): boolean {
  if (record.host !== os.hostname()) return true; // another machine's record: not ours to judge
  const start = processStart(record.pid);
  return start !== null && (record.pidStart === null || start === record.pidStart);
}

/** Who is making a change. */
export function actor(): Pick<ChangeRecord, 'host' | 'uid' | 'user' | 'sudoUser' | 'pid' | 'pidStart'> {
  const uid = process.getuid?.() ?? -1;
  let user = `uid ${uid}`;
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry: keep the uid
  }
  return {
    host: os.hostname(),
    uid,
    user,
    sudoUser: process.env.SUDO_USER ?? null,
    pid: process.pid,
    pidStart: processStart(process.pid),
  };
}
