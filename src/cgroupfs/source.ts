// What a collector sees of one cgroup: typed reads of its declared files.
// One CgroupSource is reused for every cgroup of a tick (bound in turn), so
// collectors read through it without allocating.

import type { CgroupFileSpec } from './files.js';
import type { CgroupNode, CgroupTree } from './tree.js';
import { KeyedFormat, parseLimit, parseNumber, text } from './parse.js';

export class CgroupSource {
  private node: CgroupNode | null = null;
  constructor(readonly tree: CgroupTree) {}

  bind(node: CgroupNode): this {
    this.node = node;
    return this;
  }

  get current(): CgroupNode {
    if (!this.node) throw new Error('CgroupSource used before bind()');
    return this.node;
  }

  /** The shared buffer holding the last read's bytes. */
  get buf(): Buffer {
    return this.tree.reader.buf;
  }

  /** Reads a file; returns its length in buf, or a negative value when absent or gone. */
  read(file: CgroupFileSpec): number {
    return this.tree.read(this.current, file);
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
    const v = parseNumber(this.buf, 0, n);
    return Number.isNaN(v) ? null : v;
  }

  /** A file holding one limit ("max", -1 and sentinels become null). */
  limit(file: CgroupFileSpec): number | null {
    const n = this.read(file);
    return n < 0 ? null : parseLimit(this.buf, 0, n);
  }

  /** A flat keyed file parsed into out; false if absent. */
  keyed<K extends string>(file: CgroupFileSpec, format: KeyedFormat<K>, out: Float64Array): boolean {
    const n = this.read(file);
    if (n < 0) return false;
    format.parse(this.buf, n, out);
    return true;
  }

  /** The file's text (trimmed at the end), or null. Allocates: for small, rare files. */
  text(file: CgroupFileSpec): string | null {
    const n = this.read(file);
    return n < 0 ? null : text(this.buf, 0, n);
  }
}

/** NaN (a key the file did not have) becomes null. */
export function known(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}
