// The v2 payload's templates (src/record/columns.ts): an entity's JSON with
// every number cut out, compiled once per skeleton and shared by the samples
// of a cgroup; which of its numbers are rates the replay recomputes; and the
// rate view applyRates reads.

import { storedNumber } from './codec.js';
import { scanTemplate, type ScannedTemplate, type SelectPlaces, type SelectWanted } from './template-scan.js';
import { scannedParts, scannedRateParts } from './template-text.js';

/**
 * The figures model/rates.ts derives from two samples (`*` an array index).
 * A template path in this list is a rate: recomputed on replay when it can be.
 */
export const RATE_PATHS = new Set([
  'cpuPercent',
  'cpu.percent',
  'cpu.quotaPercent',
  'cpu.throttledPercent',
  'io.readBytesPerSecond',
  'io.writeBytesPerSecond',
  'io.devices.*.readBytesPerSecond',
  'io.devices.*.writeBytesPerSecond',
  'io.devices.*.readOpsPerSecond',
  'io.devices.*.writeOpsPerSecond',
  'network.*.rxBytesPerSecond',
  'network.*.txBytesPerSecond',
]);

/**
 * A recomputed rate stands for the live one when within 0.001 (or a
 * millionth of it, for large rates), or when both are null (NaN).
 */
export function withinRateTolerance(recomputed: number, live: number): boolean {
  if (Number.isNaN(live) || Number.isNaN(recomputed)) return Number.isNaN(live) && Number.isNaN(recomputed);
  return Math.abs(recomputed - live) <= Math.max(1e-3, Math.abs(live) * 1e-6);
}

/** RATE_PATHS as a tree of keys ("*": an array index); true at a rate. */
export type RateTree = Map<string, RateTree | true>;
export const RATE_TREE: RateTree = new Map();
for (const p of RATE_PATHS) {
  const keys = p.split('.');
  let at = RATE_TREE;
  keys.forEach((k, i) => {
    if (i === keys.length - 1) at.set(k, true);
    else {
      let next = at.get(k);
      if (next === undefined || next === true) at.set(k, (next = new Map()));
      at = next;
    }
  });
}
/** The rate tree under key k of an object (or index k of an array), as isRatePath reads a path. */
export function rateChild(tree: RateTree | null | true, k: string, index: boolean): RateTree | true | null {
  if (tree === null || tree === true) return null;
  return (index ? undefined : tree.get(k)) ?? (index || /^\d+$/.test(k) ? (tree.get('*') ?? null) : null);
}

export type Node =
  | { k: 'n' }
  | { k: 'l' }
  | { k: 'v'; v: unknown }
  | { k: 'o'; keys: string[]; kids: Node[] }
  | { k: 'a'; kids: Node[] };

export const NUMBER: Node = { k: 'n' };
export const LIST: Node = { k: 'l' };

/** A compiled template: its text cut at its numbers, which numbers are rates, its rate view, its tree and every number's path. */
export interface Template {
  skeleton: string;
  leaves: number;
  /** 1 where the number is a rate (RATE_PATHS). */
  rate: Uint8Array;
  /** Where each rate is in the entity's object. */
  rateLeaves: { j: number; keys: string[] }[];
  /** The entity's JSON text around its numbers: parts[0] n0 parts[1] n1 ... */
  parts: string[];
  /** The rate view: the parts of the entity applyRates reads (RATE_INPUTS), as text parts and the numbers' indexes. */
  rateParts: string[];
  rateIdx: Int32Array;
  /** The part holding the process list, cut where the list goes (-1: none). */
  listPart: number;
  listCut: [string, string];
  root: Node;
  /** Each number's path ("io.devices.0.readBytes"). */
  paths: string[];
  pathIndex?: Map<string, number>;
  /** A scanned template's text as places in its skeleton (the texts above are then made only when asked for). */
  scanned?: ScannedTemplate;
  /** Where each member of the root object ends among the numbers (the writer's built templates). */
  memberEnds?: Int32Array;
  /** What selecting and ordering its cgroup reads (scanned templates only). */
  select?: SelectPlaces | null;
}

const ratePathMemo = new Map<string, boolean>();
function isRatePath(path: string): boolean {
  let yes = ratePathMemo.get(path);
  if (yes === undefined) {
    yes = RATE_PATHS.has(path.replace(/\.\d+(?=\.|$)/g, '.*'));
    if (ratePathMemo.size > 100_000) ratePathMemo.clear();
    ratePathMemo.set(path, yes);
  }
  return yes;
}

/**
 * Built by concatenation, a string is a tree of pieces (a rope) several times
 * its length; a template keeps its texts for as long as its cgroup lives, so
 * they are flattened once. (`charCodeAt` flattens a rope in V8; the result is
 * kept so the call cannot be optimized away.)
 */
let flattened = 0;
export function flat(text: string): string {
  flattened ^= text.charCodeAt(0) | 0;
  return text;
}

/** Paths (and their keys) are the same in every cgroup's template: one copy each. */
const pathMemo = new Map<string, { path: string; keys: string[] }>();
function internPath(path: string): string {
  let p = pathMemo.get(path);
  if (!p) {
    if (pathMemo.size > 100_000) pathMemo.clear();
    p = { path: flat(path), keys: path.split('.') };
    pathMemo.set(p.path, p);
  }
  return p.path;
}

/**
 * The nodes of templates, shared: most of a cgroup's subtrees (its cpu,
 * memory, io objects) have the same shape as every other cgroup's, and only
 * a node holding a string (an id, a name) is its own. Keyed by kind and
 * content (a node's children by their numbers).
 */
const nodeMemo = new Map<string, Node>();
/** Every node's number, never reused (the memo is cleared when large; its old nodes keep theirs). */
const nodeNumber = new WeakMap<Node, number>();
let nodesNumbered = 0;
function numberOf(n: Node): number {
  let x = nodeNumber.get(n);
  if (x === undefined) {
    x = ++nodesNumbered;
    nodeNumber.set(n, x);
  }
  return x;
}
export function shared(key: string, make: () => Node): Node {
  let node = nodeMemo.get(key);
  if (!node) {
    if (nodeMemo.size > 200_000) nodeMemo.clear();
    node = make();
    nodeMemo.set(flat(key), node);
  }
  return node;
}

/** The template's JSON text cut at its numbers. */
function textParts(n: Node, parts: string[], text: string): string {
  switch (n.k) {
    case 'n':
      parts.push(flat(text));
      return '';
    case 'l':
      return text + LIST_MARK;
    case 'v':
      return text + JSON.stringify(n.v);
    case 'a': {
      let t = `${text}[`;
      n.kids.forEach((kid, i) => (t = textParts(kid, parts, i ? `${t},` : t)));
      return `${t}]`;
    }
    case 'o': {
      let t = `${text}{`;
      n.kids.forEach((kid, i) => (t = textParts(kid, parts, `${t}${i ? ',' : ''}${JSON.stringify(n.keys[i])}:`)));
      return `${t}}`;
    }
  }
}

function compile(v: unknown, path: string, paths: string[]): Node {
  if (path === LIST_KEY && Array.isArray(v)) return LIST;
  if (typeof v === 'number') {
    paths.push(internPath(path));
    return NUMBER;
  }
  if (v === null || typeof v !== 'object') {
    const text = JSON.stringify(v) ?? 'undefined';
    return shared(`v${text}`, () => ({ k: 'v', v: typeof v === 'string' ? flat(v) : v }));
  }
  const prefix = path ? `${path}.` : '';
  if (Array.isArray(v)) {
    const kids = v.map((x, i) => compile(x, `${prefix}${i}`, paths));
    return shared(`a${kids.map(numberOf).join(',')}`, () => ({ k: 'a', kids }));
  }
  const keys = Object.keys(v);
  const kids = keys.map((k) => compile((v as Record<string, unknown>)[k], `${prefix}${k}`, paths));
  return shared(`o${JSON.stringify(keys)}${kids.map(numberOf).join(',')}`, () => ({ k: 'o', keys, kids }));
}

/**
 * What applyRates (model/rates.ts) reads of a cgroup and of the host: the
 * writer builds only these parts of each sample to learn which rates replay
 * will recompute, and replay recomputes them from the same parts, so the two
 * agree whatever rates.ts reads (a rate they got wrong is one the writer stores).
 */
export const RATE_INPUTS: ReadonlySet<string> = new Set([
  'id',
  'inode',
  'cpu',
  'io',
  'network',
  'cpuUsageSeconds',
  'cpuPercent',
]);

export function leafCount(n: Node): number {
  if (n.k === 'n') return 1;
  if (n.k === 'o' || n.k === 'a') return n.kids.reduce((sum, kid) => sum + leafCount(kid), 0);
  return 0;
}

/** The rate view of a template: its root object with only RATE_INPUTS, and where those numbers are in the whole. */
function rateView(root: Node): { rateParts: string[]; rateIdx: Int32Array } {
  const idx: number[] = [];
  let view: Node = { k: 'o', keys: [], kids: [] };
  if (root.k === 'o') {
    const keys: string[] = [];
    const kids: Node[] = [];
    let at = 0;
    root.keys.forEach((k, i) => {
      const n = leafCount(root.kids[i]);
      if (RATE_INPUTS.has(k)) {
        keys.push(k);
        kids.push(root.kids[i]);
        for (let x = 0; x < n; x++) idx.push(at + x);
      }
      at += n;
    });
    view = { k: 'o', keys, kids };
  }
  const rateParts: string[] = [];
  rateParts.push(flat(textParts(view, rateParts, '')));
  return { rateParts, rateIdx: Int32Array.from(idx) };
}

/** The last key of every rate path: only a number under one of these keys can be a rate. */
const RATE_LEAF_KEYS: ReadonlySet<string> = new Set([...RATE_PATHS].map((p) => p.slice(p.lastIndexOf('.') + 1)));

/** The template of a skeleton the slow way: parsed into a tree and printed back (the scan's reference). */
export function compileTemplate(skeleton: string): Template {
  flat(skeleton);
  const paths: string[] = [];
  const root = compile(JSON.parse(skeleton), '', paths);
  const rate = new Uint8Array(paths.length);
  const rateLeaves: Template['rateLeaves'] = [];
  paths.forEach((p, j) => {
    if (!isRatePath(p)) return;
    rate[j] = 1;
    rateLeaves.push({ j, keys: pathMemo.get(p)?.keys ?? p.split('.') });
  });
  const parts: string[] = [];
  parts.push(flat(textParts(root, parts, '')));
  const listPart = parts.findIndex((part) => part.includes(LIST_MARK));
  const listCut = (listPart < 0 ? ['', ''] : parts[listPart].split(LIST_MARK)) as [string, string];
  return {
    skeleton,
    root,
    leaves: paths.length,
    paths,
    rate,
    rateLeaves,
    parts,
    ...rateView(root),
    listPart,
    listCut,
  };
}

/** A template read by a scan of its skeleton (template-scan.ts): its tree and paths are compiled when first asked for. */
class ScannedTemplateOf implements Template {
  readonly leaves: number;
  readonly rate: Uint8Array;
  readonly rateLeaves: { j: number; keys: string[] }[];
  readonly rateIdx: Int32Array;
  readonly listPart: number;
  readonly select: SelectPlaces | null;
  pathIndex?: Map<string, number>;
  private tree: Node | null = null;
  private leafPaths: string[] | null = null;
  private texts: { parts: string[]; listCut: [string, string] } | null = null;
  private rateTexts: string[] | null = null;

  constructor(
    readonly skeleton: string,
    readonly scanned: ScannedTemplate,
  ) {
    this.leaves = scanned.leaves;
    this.rate = scanned.rate;
    this.rateLeaves = scanned.rateLeaves;
    this.rateIdx = scanned.rateIdx;
    this.listPart = scanned.listPart;
    this.select = scanned.select ?? null;
  }

  get parts(): string[] {
    this.texts ??= scannedParts(this.skeleton, this.scanned, LIST_MARK);
    return this.texts.parts;
  }

  get listCut(): [string, string] {
    this.texts ??= scannedParts(this.skeleton, this.scanned, LIST_MARK);
    return this.texts.listCut;
  }

  get rateParts(): string[] {
    this.rateTexts ??= scannedRateParts(this.skeleton, this.scanned);
    return this.rateTexts;
  }

  /** The tree (the writer's matches() walks it): compiled on first use. */
  get root(): Node {
    this.tree ??= compile(JSON.parse(this.skeleton), '', []);
    return this.tree;
  }

  /** Each number's path (a changed template's numbers are matched to the old one's by path): scanned on first use. */
  get paths(): string[] {
    this.leafPaths ??=
      scanTemplate(this.skeleton, RATE_LEAF_KEYS, isRatePath, LIST_KEY, RATE_INPUTS, true)?.paths ??
      compileTemplate(this.skeleton).paths;
    return this.leafPaths;
  }
}

/**
 * What model/select.ts reads of a cgroup to select and order it: the
 * members its filter and default selection read, and the two numbers it
 * sorts by (a recorded sample is selected on these alone: sample-text.ts).
 */
export const SELECT_WANTED: SelectWanted = {
  keys: new Set(['id', 'name', 'runtime', 'populated', 'containerId', 'image', 'instance']),
  places: ['cpu.percent', 'memory.workingSetBytes'],
};

/** The template of a skeleton by a scan of its text, or null when the scan cannot read it. */
export function scannedTemplate(skeleton: string): Template | null {
  const scanned = scanTemplate(skeleton, RATE_LEAF_KEYS, isRatePath, LIST_KEY, RATE_INPUTS, false, SELECT_WANTED);
  return scanned && new ScannedTemplateOf(skeleton, scanned);
}

/**
 * Templates by skeleton: each cgroup has its own (its id and name are in it),
 * shared by its samples. A reader's (`scan`) are read by a scan of the
 * skeleton, their trees compiled only if asked for; a writer's are compiled
 * (it matches every sample against the tree).
 */
export class Templates {
  private readonly byText = new Map<string, Template>();

  constructor(private readonly scan = false) {}

  get(skeleton: string): Template {
    let t = this.byText.get(skeleton);
    if (t) return t;
    t = (this.scan && scannedTemplate(skeleton)) || compileTemplate(skeleton);
    if (this.byText.size > 100_000) this.byText.clear(); // cgroups come and go: keep the map bounded
    this.byText.set(skeleton, t);
    return t;
  }

  get size(): number {
    return this.byText.size;
  }

  /** The template held for this skeleton, if any. */
  find(skeleton: string): Template | undefined {
    return this.byText.get(skeleton);
  }

  /** Holds t (built elsewhere: template-build.ts), or returns the one already held for its skeleton. */
  add(t: Template): Template {
    const held = this.byText.get(t.skeleton);
    if (held) return held;
    if (this.byText.size > 100_000) this.byText.clear();
    this.byText.set(t.skeleton, t);
    return t;
  }

  /** Forgets every template but these (the writer's: a replaced template is seldom seen again). */
  retainOnly(live: Iterable<Template>): void {
    this.byText.clear();
    for (const t of live) this.byText.set(t.skeleton, t);
  }
}

export function indexOfPath(t: Template, path: string): number | undefined {
  t.pathIndex ??= new Map(t.paths.map((p, i) => [p, i]));
  return t.pathIndex.get(path);
}

/**
 * A cgroup's process list changes more often than anything else about it:
 * it is kept beside the template (as a list per entity), not in it, so a
 * process starting does not make a new template.
 */
export const LIST_KEY = 'processes';
const LIST_MARK = '\u0000';

/**
 * The skeleton of v (numbers as 0, stored as storedNumber into vals; the
 * top-level process list into lists): the reference for the writer's
 * one-walk build (template-build.ts), which the tests compare with it. A rate (RATE_PATHS) is a number in the
 * skeleton whatever its value: a null rate is NaN in vals, so a cgroup keeps
 * its template when its rates become known (its second sample) or unknown.
 */
export function skeletonOf(v: unknown, vals: number[], lists: unknown[][], top = false): string {
  return skeletonAt(v, vals, lists, top, top ? RATE_TREE : null);
}

function skeletonAt(
  v: unknown,
  vals: number[],
  lists: unknown[][],
  top: boolean,
  rates: RateTree | true | null,
): string {
  if (typeof v === 'number') {
    vals.push(storedNumber(v));
    return '0';
  }
  if (v === null && rates === true) {
    vals.push(NaN);
    return '0';
  }
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) {
    const item = rateChild(rates, '', true);
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + skeletonAt(v[i], vals, lists, false, item);
    return `${s}]`;
  }
  const members: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || typeof x === 'function') continue;
    const listed = top && k === LIST_KEY && Array.isArray(x);
    if (listed) lists.push((x as unknown[]).slice());
    members.push(
      `${JSON.stringify(k)}:${listed ? '[]' : skeletonAt(x, vals, lists, false, rateChild(rates, k, false))}`,
    );
  }
  return `{${members.join(',')}}`;
}
