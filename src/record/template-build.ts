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
/**
 * The skeleton's text, as pieces joined once at the end. Built by `+=` and
 * each subtree keyed by its text, every subtree was flattened and hashed
 * again at each level up: at 1,000 cgroups a recorder's first 20 encodes
 * took 26 young-generation collections, now 17.
 */
const out: string[] = [];
/** The members' keys and nodes of the objects (and arrays) being walked, each one's from its own base. */
const keyStack: string[] = [];
const kidStack: Node[] = [];
/** The node of the value walked last, and its number (alike subtrees are one node, so one number). */
let node: Node = NUMBER;
let nodeId = 1;

/**
 * Alike subtrees are one node: a subtree is known by its kind, its keys and
 * its children's nodes (so by content, as its text would say), hashed from
 * their numbers; a hash shared by two contents is told apart by comparing them.
 */
interface SharedNode {
  node: Node;
  id: number;
  next: SharedNode | null;
}
const sharedNodes = new Map<number, SharedNode>();
/** Strings, booleans and nulls by their JSON text. */
const valueNodes = new Map<string, SharedNode>();
/** Each key's text in a skeleton, first in its object and after a comma, and its number. */
const keyTexts = new Map<string, { id: number; first: string; next: string }>();
/** Numbers of nodes and keys, never reused (1: a number, 2: the process list). */
let lastId = 2;
const FNV_PRIME = 16777619;

function keyText(k: string): { id: number; first: string; next: string } {
  let t = keyTexts.get(k);
  if (t === undefined) {
    if (keyTexts.size > 10_000) keyTexts.clear();
    const text = `${JSON.stringify(k)}:`;
    t = { id: ++lastId, first: text, next: `,${text}` };
    keyTexts.set(k, t);
  }
  return t;
}

/** The shared node of the object (or array) whose members are on the stacks from base. */
function sharedNode(kind: 'o' | 'a', hash: number, base: number, keyBase: number): void {
  const n = kidStack.length - base;
  const first = sharedNodes.get(hash);
  for (let e: SharedNode | null | undefined = first; e; e = e.next) {
    const held = e.node;
    if (held.k !== kind || held.kids.length !== n) continue;
    let same = true;
    for (let i = 0; i < n && same; i++)
      same =
        held.kids[i] === kidStack[base + i] &&
        (kind === 'a' || (held as { keys: string[] }).keys[i] === keyStack[keyBase + i]);
    if (same) {
      node = held;
      nodeId = e.id;
      return;
    }
  }
  let next = first ?? null;
  if (sharedNodes.size > 200_000) {
    sharedNodes.clear();
    next = null;
  }
  const kids = kidStack.slice(base);
  node = kind === 'o' ? { k: 'o', keys: keyStack.slice(keyBase), kids } : { k: 'a', kids };
  nodeId = ++lastId;
  sharedNodes.set(hash, { node, id: nodeId, next });
}

/** Keys of rate leaves: the same few in every cgroup, one array each. */
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

function numberLeaf(v: number, rates: RateTree | true | null): void {
  if (rates === true) {
    rate[vals.length] = 1;
    rateLeaves.push({ j: vals.length, keys: keysOf(path) });
  }
  vals.push(v);
  out.push('0');
  node = NUMBER;
  nodeId = 1;
}

function valueLeaf(v: unknown): void {
  const text = JSON.stringify(v) ?? 'null';
  out.push(text);
  let e = valueNodes.get(text);
  if (e === undefined) {
    if (valueNodes.size > 200_000) valueNodes.clear();
    const value = v === undefined || typeof v === 'function' ? null : v;
    e = { node: { k: 'v', v: typeof value === 'string' ? flat(value) : value }, id: ++lastId, next: null };
    valueNodes.set(text, e);
  }
  node = e.node;
  nodeId = e.id;
}

/** Appends v's skeleton text (skeletonOf's) to `out`; its node is left in `node`. */
function walk(v: unknown, rates: RateTree | true | null, top: boolean): void {
  if (typeof v === 'number') return numberLeaf(storedNumber(v), rates);
  // A rate is a number slot whatever its value (columns.ts): null is NaN.
  if (v === null && rates === true) return numberLeaf(NaN, rates);
  if (v === null || typeof v !== 'object') return valueLeaf(v);
  const base = kidStack.length;
  if (Array.isArray(v)) {
    const item = rateChild(rates, '', true);
    let hash = 0x811c9dc5 ^ 0x61;
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i) out.push(',');
      if (item !== null) path.push(String(i));
      walk(v[i], item, false);
      if (item !== null) path.pop();
      kidStack.push(node);
      hash = Math.imul(hash ^ nodeId, FNV_PRIME);
    }
    out.push(']');
    if (top) node = { k: 'a', kids: kidStack.slice(base) };
    else sharedNode('a', hash, base, 0);
    kidStack.length = base;
    return;
  }
  const keyBase = keyStack.length;
  let hash = 0x811c9dc5 ^ 0x6f;
  out.push('{');
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function') continue;
    const key = keyText(k);
    out.push(kidStack.length === base ? key.first : key.next);
    if (top && k === LIST_KEY && Array.isArray(x)) {
      lists.push(x.slice());
      out.push('[]');
      node = LIST;
      nodeId = 2;
    } else {
      const child = rateChild(rates, k, false);
      if (child !== null) path.push(k);
      walk(x, child, false);
      if (child !== null) path.pop();
    }
    if (top) memberEnds.push(vals.length);
    keyStack.push(k);
    kidStack.push(node);
    hash = Math.imul(Math.imul(hash ^ key.id, FNV_PRIME) ^ nodeId, FNV_PRIME);
  }
  out.push('}');
  // A cgroup's own root is never shared (its id is its own).
  if (top) node = { k: 'o', keys: keyStack.slice(keyBase), kids: kidStack.slice(base) };
  else sharedNode('o', hash, base, keyBase);
  keyStack.length = keyBase;
  kidStack.length = base;
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
  out.length = 0;
  keyStack.length = 0;
  kidStack.length = 0;
  try {
    walk(obj, RATE_TREE, true);
    const skeleton = out.join('');
    const held = known(skeleton);
    if (held) return held;
    const flags = new Uint8Array(vals.length);
    for (let j = 0; j < rate.length; j++) if (rate[j]) flags[j] = 1;
    const ends = node.k === 'o' ? Int32Array.from(memberEnds) : new Int32Array(0);
    return new BuiltTemplate(skeleton, node, vals.length, flags, rateLeaves, ends);
  } finally {
    vals = [];
    lists = [];
    out.length = 0;
  }
}
