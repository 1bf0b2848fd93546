// The writer's templates, built in one walk of the live object: its
// skeleton text, numbers, process list, tree (alike subtrees shared) and
// rates at once. The other way, skeletonOf and then compileTemplate, printed
// the object, parsed the text back and walked it twice more (the tree with a
// key per object, the text parts): at 1,000 cgroups that was most of a
// recorder's first sample. What only a reader needs of a template (its text
// parts, rate text, number paths) is read off the skeleton when first asked
// for (template-scan.ts), which the writer seldom does.

import { storedNumber } from './codec.js';
import {
  compileTemplate,
  flat,
  LIST,
  LIST_KEY,
  NUMBER,
  RATE_TREE,
  rateChild,
  scannedTemplate,
  shared,
  type Node,
  type RateTree,
  type Template,
} from './templates.js';

/** What a walk gathers besides the text (module scope: one walk at a time, no allocation per node for it). */
let vals: number[] = [];
let lists: unknown[][] = [];
let rate: number[] = [];
let rateLeaves: { j: number; keys: string[] }[] = [];
/** Where each member of the top object ends among the numbers (the writer's carried copy: template-match.ts). */
let memberEnds: number[] = [];
/** The keys down to the value walked, kept only under RATE_TREE (a rate leaf's keys). */
const path: string[] = [];
/** The node of the value whose text walk() last returned. */
let node: Node = NUMBER;

/** Rate leaves' keys: the same few in every cgroup, one array each. */
const keysMemo = new Map<string, string[]>();
function keysOf(at: readonly string[]): string[] {
  const joined = at.join('.');
  let keys = keysMemo.get(joined);
  if (!keys) {
    if (keysMemo.size > 10_000) keysMemo.clear();
    keys = at.slice();
    keysMemo.set(joined, keys);
  }
  return keys;
}

function numberLeaf(v: number, rates: RateTree | true | null): string {
  if (rates === true) {
    rate[vals.length] = 1;
    rateLeaves.push({ j: vals.length, keys: keysOf(path) });
  }
  vals.push(v);
  node = NUMBER;
  return '0';
}

/** v's skeleton text (skeletonOf's); its node is left in `node`. */
function walk(v: unknown, rates: RateTree | true | null, top: boolean): string {
  if (typeof v === 'number') return numberLeaf(storedNumber(v), rates);
  // A rate is a number slot whatever its value (columns.ts): null is NaN.
  if (v === null && rates === true) return numberLeaf(NaN, rates);
  if (v === null || typeof v !== 'object') {
    const text = JSON.stringify(v) ?? 'null';
    const value = v === undefined || typeof v === 'function' ? null : v;
    node = shared(`v${text}`, () => ({ k: 'v', v: typeof value === 'string' ? flat(value) : value }));
    return text;
  }
  if (Array.isArray(v)) {
    const item = rateChild(rates, '', true);
    const kids: Node[] = [];
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (item !== null) path.push(String(i));
      s += (i ? ',' : '') + walk(v[i], item, false);
      if (item !== null) path.pop();
      kids.push(node);
    }
    s += ']';
    node = top ? { k: 'a', kids } : shared(`A${s}`, () => ({ k: 'a', kids }));
    return s;
  }
  const keys: string[] = [];
  const kids: Node[] = [];
  let s = '{';
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function') continue;
    let inner: string;
    if (top && k === LIST_KEY && Array.isArray(x)) {
      lists.push(x.slice());
      inner = '[]';
      node = LIST;
    } else {
      const child = rateChild(rates, k, false);
      if (child !== null) path.push(k);
      inner = walk(x, child, false);
      if (child !== null) path.pop();
    }
    s += `${keys.length ? ',' : ''}${JSON.stringify(k)}:${inner}`;
    if (top) memberEnds.push(vals.length);
    keys.push(k);
    kids.push(node);
  }
  s += '}';
  // Keyed by its text, which is its shape and its strings: a cgroup's own root is never shared.
  node = top ? { k: 'o', keys, kids } : shared(`O${s}`, () => ({ k: 'o', keys, kids }));
  return s;
}

/**
 * A template built from the live object: the fields a writer uses are
 * filled; the text parts, rate text and paths come from a scan of the
 * skeleton when first asked for.
 */
class BuiltTemplate implements Template {
  private read: Template | null = null;
  pathIndex?: Map<string, number>;

  constructor(
    readonly skeleton: string,
    readonly root: Node,
    readonly leaves: number,
    readonly rate: Uint8Array,
    readonly rateLeaves: { j: number; keys: string[] }[],
    readonly memberEnds: Int32Array,
  ) {}

  private get other(): Template {
    this.read ??= scannedTemplate(this.skeleton) ?? compileTemplate(this.skeleton);
    return this.read;
  }
  get parts(): string[] {
    return this.other.parts;
  }
  get rateParts(): string[] {
    return this.other.rateParts;
  }
  get rateIdx(): Int32Array {
    return this.other.rateIdx;
  }
  get listPart(): number {
    return this.other.listPart;
  }
  get listCut(): [string, string] {
    return this.other.listCut;
  }
  get paths(): string[] {
    return this.other.paths;
  }
}

/**
 * The template of a live entity (the host or a cgroup: its skeleton is
 * skeletonOf(obj, .., true)'s), its numbers pushed to `numbers` (storedNumber;
 * NaN for a null rate) and its process list to `processLists`. `known`
 * gives the template already held for the same skeleton, if any.
 */
export function buildTemplate(
  obj: unknown,
  numbers: number[],
  processLists: unknown[][],
  known: (skeleton: string) => Template | undefined,
): Template {
  vals = numbers;
  lists = processLists;
  rate = [];
  rateLeaves = [];
  memberEnds = [];
  path.length = 0;
  try {
    const skeleton = flat(walk(obj, RATE_TREE, true));
    const held = known(skeleton);
    if (held) return held;
    const flags = new Uint8Array(vals.length);
    for (let j = 0; j < rate.length; j++) if (rate[j]) flags[j] = 1;
    const ends = node.k === 'o' ? Int32Array.from(memberEnds) : new Int32Array(0);
    return new BuiltTemplate(skeleton, node, vals.length, flags, rateLeaves, ends);
  } finally {
    vals = [];
    lists = [];
  }
}
