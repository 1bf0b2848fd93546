// `tstop logs`: a detached container's log, read across its rotated files
// (NAME.log.<max-file - 1> ... NAME.log.1, NAME.log), followed through
// rotation with -f. The helper's logger (native/src/logger.c) writes CRI
// records, `<RFC 3339 time> <stdout|stderr> <F|P> <text>`: F ends a line, P
// is a piece of one that goes on in the same stream's next record. Printed
// is the text only (with -t, each line's time first, as docker logs -t):
// the container's stdout on ours, its stderr on ours, as docker logs does.
// Lines that are not records (the helper's own words before its logger ran)
// are printed as they are, without a time.

import fs from 'node:fs';
import path from 'node:path';
import { tryLockExclusive } from '../util/flock.js';
import { rotatedLogNames } from './logs.js';
import { lookup } from './manage.js';
import { reportFailure } from './report.js';
import { LaunchError, logPath, reportPath, runDir } from './state.js';

export type Stream = 'stdout' | 'stderr';

/** One record: a whole line (endsLine) or a piece of one. Its time is decoded only when asked for. */
export class LogPiece {
  constructor(
    private readonly stampBytes: Buffer | null,
    readonly stream: Stream,
    readonly text: Buffer,
    /** The first piece of its line (no piece of the same stream is open before it). */
    readonly startsLine: boolean,
    readonly endsLine: boolean,
  ) {}

  /** The record's time as written (RFC 3339, UTC); null for a line that is not a record. */
  get stamp(): string | null {
    return this.stampBytes === null ? null : this.stampBytes.toString('latin1');
  }

  get timeMs(): number | null {
    if (this.stampBytes === null) return null;
    const ms = Date.parse(this.stampBytes.toString('latin1'));
    return Number.isFinite(ms) ? ms : null;
  }
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const NEWLINE_BYTES = Buffer.from('\n');
const F = 0x46;
const P = 0x50;
/** A record line longer than this without a newline is passed on as it is (not a record of ours). */
const MAX_CARRY_BYTES = 1024 * 1024;

/** "2026-12-06T03:12:00[.fraction]Z" at the start of a line, by its fixed bytes. */
function looksLikeStamp(line: Buffer, end: number): boolean {
  return end >= 20 && end <= 40 && line[4] === 0x2d && line[7] === 0x2d && line[10] === 0x54 && line[end - 1] === 0x5a;
}

/** Bytes of the log files to pieces; keeps what a file's last, unfinished record line had and which lines are open. */
export class CriDecoder {
  private carry: Buffer = Buffer.alloc(0);
  private readonly open: Record<Stream, boolean> = { stdout: false, stderr: false };

  /** The chunk's pieces; they keep references into it, so it must not be reused. */
  push(chunk: Buffer): LogPiece[] {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const out: LogPiece[] = [];
    let from = 0;
    for (;;) {
      const nl = data.indexOf(NEWLINE, from);
      if (nl < 0) break;
      out.push(this.piece(data.subarray(from, nl), true));
      from = nl + 1;
    }
    this.carry = Buffer.from(data.subarray(from));
    if (this.carry.length > MAX_CARRY_BYTES) {
      out.push(this.piece(this.carry, false));
      this.carry = Buffer.alloc(0);
    }
    return out;
  }

  /** Whether a line of the stream is open (its pieces so far printed, its end not yet read). */
  isOpen(stream: Stream): boolean {
    return this.open[stream];
  }

  private piece(line: Buffer, complete: boolean): LogPiece {
    const s1 = line.indexOf(SPACE);
    if (looksLikeStamp(line, s1) && line[s1 + 7] === SPACE && line[s1 + 9] === SPACE) {
      const name = line.toString('latin1', s1 + 1, s1 + 7);
      const tag = line[s1 + 8];
      if ((name === 'stdout' || name === 'stderr') && (tag === F || tag === P)) {
        const startsLine = !this.open[name];
        this.open[name] = tag === P;
        return new LogPiece(line.subarray(0, s1), name, line.subarray(s1 + 10), startsLine, tag === F);
      }
    }
    const startsLine = !this.open.stdout;
    this.open.stdout = !complete;
    return new LogPiece(null, 'stdout', line, startsLine, complete);
  }
}

/** The log's files, oldest first: NAME.log.N ... NAME.log.1, NAME.log (those that exist). */
export function logFilesOldestFirst(dir: string, name: string): string[] {
  const base = path.basename(logPath(dir, name));
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const rotated = rotatedLogNames(entries, base).sort(
    (a, b) => Number(b.slice(base.length + 1)) - Number(a.slice(base.length + 1)),
  );
  return [...rotated, ...(entries.includes(base) ? [base] : [])].map((f) => path.join(dir, f));
}

export interface LogsOptions {
  follow: boolean;
  /** Lines from the end; null: all. */
  tail: number | null;
  /** Epoch ms: lines from then on (their first piece's time); null: all. */
  sinceMs: number | null;
  timestamps: boolean;
  /** -f: how often to look for new bytes and rotation. */
  pollMs?: number;
}

/** Where each stream's text goes: the container's stdout to ours, its stderr to ours, as docker logs does. */
export type LogOutputs = Record<Stream, NodeJS.WritableStream>;

/** Writes pieces as text, filtering --since by line and prefixing -t times. */
class Printer {
  private readonly skipping: Record<Stream, boolean> = { stdout: false, stderr: false };
  private readonly chunks: Record<Stream, Buffer[]> = { stdout: [], stderr: [] };
  private size = 0;

  constructor(
    private readonly opts: LogsOptions,
    private readonly outs: LogOutputs,
  ) {}

  /** Whether the line this piece starts is shown (--since). */
  shown(p: LogPiece): boolean {
    if (!p.startsLine) return !this.skipping[p.stream];
    return this.opts.sinceMs === null || (p.timeMs !== null && p.timeMs >= this.opts.sinceMs);
  }

  print(p: LogPiece): void {
    if (p.startsLine) this.skipping[p.stream] = !this.shown(p);
    if (this.skipping[p.stream]) return;
    if (this.opts.timestamps && p.startsLine && p.stamp !== null) this.add(p.stream, Buffer.from(`${p.stamp} `));
    this.add(p.stream, p.text);
    if (p.endsLine) this.add(p.stream, NEWLINE_BYTES);
  }

  private add(stream: Stream, b: Buffer): void {
    this.chunks[stream].push(b);
    this.size += b.length;
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    this.size = 0;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.chunks[stream].length === 0) continue;
      const buf = Buffer.concat(this.chunks[stream]);
      this.chunks[stream] = [];
      const out = this.outs[stream];
      if (!out.write(buf)) await new Promise<void>((resolve) => out.once('drain', resolve));
    }
  }

  /** After a --tail dump: the rest of a line left out is left out too. */
  skip(stream: Stream, skipped: boolean): void {
    this.skipping[stream] = skipped;
  }
}

/** The last N lines (each its pieces), after --since. */
class TailBuffer {
  private lines: LogPiece[][] = [];
  private readonly current: Record<Stream, LogPiece[] | null> = { stdout: null, stderr: null };

  constructor(
    private readonly n: number,
    private readonly printer: Printer,
  ) {}

  add(p: LogPiece): void {
    if (p.startsLine) {
      this.current[p.stream] = this.printer.shown(p) ? [] : null;
      if (this.current[p.stream] !== null) this.lines.push(this.current[p.stream] as LogPiece[]);
      if (this.lines.length > 2 * this.n + 1024) this.lines = this.last(); // amortised, not a shift per line
    }
    this.current[p.stream]?.push(p);
    if (p.endsLine) this.current[p.stream] = null;
  }

  private last(): LogPiece[][] {
    return this.n === 0 ? [] : this.lines.slice(-this.n);
  }

  pieces(): LogPiece[] {
    return this.last().flat();
  }

  /** Whether the stream's open line is among the last N. */
  keeps(stream: Stream): boolean {
    const line = this.current[stream];
    return line !== null && this.last().includes(line);
  }
}

interface OpenFile {
  fd: number;
  ino: number;
  offset: number;
}

const READ_BYTES = 256 * 1024;

function openLog(file: string): OpenFile | null {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return { fd, ino: fs.fstatSync(fd).ino, offset: 0 };
  } catch {
    return null;
  }
}

/** The pieces of the file's next bytes from its offset (one read); null at its end. */
function readChunk(f: OpenFile, decoder: CriDecoder): LogPiece[] | null {
  const buf = Buffer.allocUnsafe(READ_BYTES); // fresh: the pieces point into it
  const n = fs.readSync(f.fd, buf, 0, buf.length, f.offset);
  if (n <= 0) return null;
  f.offset += n;
  return decoder.push(buf.subarray(0, n));
}

/** Whether the helper and its logger are gone: nothing holds the report's lock (native/src/supervisor.c). */
function writersGone(dir: string, name: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(reportPath(dir, name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return true;
  }
  try {
    return tryLockExclusive(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Prints the log of the container NAME in dir (its files must exist); with
 * follow, goes on until the helper and its logger are gone and the log is
 * drained, as docker logs -f ends with the container.
 */
export async function printLog(
  dir: string,
  name: string,
  opts: LogsOptions,
  outs: LogOutputs = { stdout: process.stdout, stderr: process.stderr },
): Promise<void> {
  const decoder = new CriDecoder();
  const printer = new Printer(opts, outs);
  const tail = opts.tail === null ? null : new TailBuffer(opts.tail, printer);
  // Opened before reading, so a rotation meanwhile does not move a file under us.
  const seen = new Set<number>();
  const files: OpenFile[] = [];
  for (const file of logFilesOldestFirst(dir, name)) {
    const f = openLog(file);
    if (f === null || seen.has(f.ino)) continue;
    seen.add(f.ino);
    files.push(f);
  }
  for (const f of files) {
    for (let pieces = readChunk(f, decoder); pieces !== null; pieces = readChunk(f, decoder)) {
      for (const p of pieces)
        if (tail) tail.add(p);
        else printer.print(p);
      await printer.flush();
    }
  }
  if (tail) {
    for (const p of tail.pieces()) printer.print(p);
    for (const s of ['stdout', 'stderr'] as const) if (decoder.isOpen(s)) printer.skip(s, !tail.keeps(s));
  }
  await printer.flush();
  let current = files.pop() ?? null;
  for (const f of files) fs.closeSync(f.fd);
  if (!opts.follow) {
    if (current) fs.closeSync(current.fd);
    return;
  }
  await follow(dir, name, current, decoder, printer, opts.pollMs ?? 100);
}

async function follow(
  dir: string,
  name: string,
  start: OpenFile | null,
  decoder: CriDecoder,
  printer: Printer,
  pollMs: number,
): Promise<void> {
  const base = logPath(dir, name);
  let current = start;
  try {
    for (;;) {
      // Checked before the last read: when they are gone, what that read finds is all there is.
      const done = writersGone(dir, name);
      const reading = current;
      if (reading) {
        for (let pieces = readChunk(reading, decoder); pieces !== null; pieces = readChunk(reading, decoder)) {
          for (const p of pieces) printer.print(p);
          await printer.flush();
        }
      }
      const next = successor(dir, name, base, current);
      if (next !== undefined) {
        if (current) fs.closeSync(current.fd);
        current = next;
        continue; // read the new file before deciding to end
      }
      if (done) return;
      await sleep(pollMs);
    }
  } finally {
    if (current) fs.closeSync(current.fd);
  }
}

/**
 * After a rotation, the file that followed the one being read: the next
 * newer file (found by inode among the rotated ones), or the oldest one left
 * when it was dropped. undefined: no rotation (a file truncated in place,
 * max-file=1, is read again from its start).
 */
function successor(dir: string, name: string, base: string, current: OpenFile | null): OpenFile | null | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(base);
  } catch {
    return undefined; // between a rename and the new file
  }
  if (current && st.ino === current.ino) {
    if (st.size < current.offset) current.offset = 0;
    return undefined;
  }
  const files = logFilesOldestFirst(dir, name);
  const inodes = files.map((f) => {
    try {
      return fs.statSync(f).ino;
    } catch {
      return -1;
    }
  });
  const at = current ? inodes.indexOf(current.ino) : -1;
  for (const file of files.slice(at + 1)) {
    const f = openLog(file);
    if (f !== null) return f;
  }
  return undefined;
}

/** `tstop logs NAME`: exit 1 for an unknown container or one that has no log (not detached), as docker logs. */
export async function showLogs(ref: string, opts: LogsOptions): Promise<number> {
  try {
    const dir = runDir();
    const st = lookup(dir, ref, 1);
    if (!st.detached) {
      throw new LaunchError(
        `container '${st.name}' was not started with -d: its output went to tstop run's terminal and no log was kept`,
        1,
      );
    }
    await printLog(dir, st.name, opts);
    return 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0; // tstop logs NAME | head
    return reportFailure('logs', err);
  }
}
