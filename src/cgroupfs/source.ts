// What a collector sees of one cgroup: typed reads of its declared files.
// One CgroupSource is reused for every cgroup of a tick (bound in turn), so
// collectors read through it without allocating.

import type { CgroupFileSpec } from './files.js';
import type { CgroupNode, CgroupTree } from './tree.js';
import { KeyedFormat, parseLimit, parseNumber, text } from './parse.js';

/** Told of every read through the source (the collection notes them: src/collect/unchanged.ts). */
export interface ReadListener {
  noteRead(node: CgroupNode, slot: number, n: number): void;
}

export class CgroupSource {
  private node: CgroupNode | null = null;
  /** When set, every read is reported to it. */
  listener: ReadListener | null = null;
  constructor(readonly tree: CgroupTree) {}

  bind(node: CgroupNode): this {
    this.node = node;
    return this;
  }

  get current(): CgroupNode {
    if (!this.node) throw new Error('CgroupSource used before bind()');
    return this.node;
  }

  /** The buffer holding the last read's bytes, at [start, end). */
  get buf(): Buffer {
    return this.tree.reader.data;
  }

  get start(): number {
    return this.tree.reader.start;
  }

  get end(): number {
    return this.tree.reader.start + this.tree.reader.length;
  }

  /** Reads a file; returns its length (bytes at buf[start, end)), or a negative value when absent or gone. */
  read(file: CgroupFileSpec): number {
    const node = this.current;
    const n = this.tree.read(node, file);
    this.listener?.noteRead(node, file.slot, n);
    return n;
  }

  /**
   * The last read gave the bytes an earlier tick read (nothing can have
   * changed them, see executionFile and restingFile): a value parsed from
   * that read then may be reused.
   */
  get kept(): boolean {
    return this.tree.servedKept;
  }

  /** Whether this cgroup exists in the hierarchy of that file. */
  has(file: CgroupFileSpec): boolean {
    return this.tree.has(this.current, file);
  }

  /** Whether the controller is served by cgroup v2 on this host. */
  isV2(controller: string): boolean {
    return this.tree.isV2Controller(controller);
  }

  /** A file holding one number; null if absent or not a number. */
  number(file: CgroupFileSpec): number | null {
    const n = this.read(file);
    if (n < 0) return null;
    const v = parseNumber(this.buf, this.start, this.end);
    return Number.isNaN(v) ? null : v;
  }

  /** A file holding one limit ("max", -1 and sentinels become null). */
  limit(file: CgroupFileSpec): number | null {
    const n = this.read(file);
    return n < 0 ? null : parseLimit(this.buf, this.start, this.end);
  }

  /** A flat keyed file parsed into out; false if absent. */
  keyed<K extends string>(file: CgroupFileSpec, format: KeyedFormat<K>, out: Float64Array): boolean {
    const n = this.read(file);
    if (n < 0) return false;
    format.parse(this.buf, this.end, out, this.start);
    return true;
  }

  /**
   * A setting file parsed once per distinct content: while its bytes do not
   * change, the same parsed value is returned (no allocation per tick).
   * Callers must treat the value as read-only.
   */
  setting<T>(file: CgroupFileSpec, parse: (buf: Buffer, start: number, end: number) => T): T | null {
    const n = this.read(file);
    if (n < 0) return null;
    const node = this.current;
    // A setting is served from the node's kept bytes: their version tells whether they changed.
    const version = node.keptVersion[file.slot];
    const memo = node.parsedSettings;
    let at = 0;
    while (at < memo.length && memo[at] !== file.slot) at += 3;
    if (at < memo.length && memo[at + 1] === version) return memo[at + 2] as T;
    const value = parse(this.buf, this.start, this.end);
    if (file.kind === 'setting') {
      memo[at] = file.slot;
      memo[at + 1] = version;
      memo[at + 2] = value;
    }
    return value;
  }

  /** The file's text (trimmed at the end), or null. Allocates: for small, rare files. */
  text(file: CgroupFileSpec): string | null {
    const n = this.read(file);
    return n < 0 ? null : text(this.buf, this.start, this.end);
  }
}

/** NaN (a key the file did not have) becomes null. */
export function known(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
