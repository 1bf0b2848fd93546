// The writer's rate views (see derivable in columns.ts): what applyRates
// reads of each entity, filled with the stored numbers, kept as objects
// between samples. Each entity has two of them, used in turn: the previous
// sample's stays intact as applyRates' base while this sample's is filled in
// place. Only a new template builds its objects (parsed from text made of
// its shared nodes' texts: the objects replay parses from the template's
// rate text), so a sample costs an assignment per number instead of a
// thousand cgroups' JSON text built and parsed again.

import { storedNumber } from './codec.js';
import { RATE_INPUTS, type Template } from './templates.js';

interface ViewObject {
  root: Record<string, unknown>;
  /** The rate view's numbers, in leaf order: number x is objs[x][keys[x]], the template's leaf idx[x]. */
  objs: Record<string | number, unknown>[];
  keys: (string | number)[];
  idx: number[];
  /** Where each of the template's rate leaves is among the numbers (rateLeaves order; -1: not in the view). */
  rates: number[];
}

/** An entity's two view objects and which one the last sample filled. */
export interface EntityViews {
  t: Template;
  objects: [ViewObject | null, ViewObject | null];
  last: 0 | 1;
}

type TemplateNode = Template['root'];

/** How many numbers a node holds (nodes are shared across templates: counted once each). */
const leafCounts = new WeakMap<TemplateNode, number>();
function leafCount(n: TemplateNode): number {
  if (n.k === 'n') return 1;
  if (n.k !== 'o' && n.k !== 'a') return 0;
  let count = leafCounts.get(n);
  if (count === undefined) {
    count = 0;
    for (const kid of n.kids) count += leafCount(kid);
    leafCounts.set(n, count);
  }
  return count;
}

/** A node's value as JSON text with its numbers null (nodes are shared: each shared subtree's text is made once). */
const viewTexts = new WeakMap<TemplateNode, string>();
function viewText(n: TemplateNode): string {
  if (n.k === 'n') return 'null';
  if (n.k === 'v') return JSON.stringify(n.v) ?? 'null';
  if (n.k === 'l') return '[]';
  let text = viewTexts.get(n);
  if (text === undefined) {
    text =
      n.k === 'a'
        ? `[${n.kids.map(viewText).join(',')}]`
        : `{${n.keys.map((k, i) => `${JSON.stringify(k)}:${viewText(n.kids[i])}`).join(',')}}`;
    viewTexts.set(n, text);
  }
  return text;
}

/** The slots of node n's numbers, n being obj[key] (parsed from viewText), from leaf index j on; returns the next. */
function slotsOf(
  n: TemplateNode,
  obj: Record<string | number, unknown>,
  key: string | number,
  view: ViewObject,
  j: number,
): number {
  if (n.k === 'n') {
    view.objs.push(obj);
    view.keys.push(key);
    view.idx.push(j);
    return j + 1;
  }
  if (n.k === 'o' || n.k === 'a') {
    const child = obj[key] as Record<string | number, unknown>;
    for (let i = 0; i < n.kids.length; i++) j = slotsOf(n.kids[i], child, n.k === 'o' ? n.keys[i] : i, view, j);
  }
  return j;
}

/**
 * A new view object of template t (its numbers to be filled in): the root's
 * RATE_INPUTS members, parsed from text (the engine's parser makes alike
 * objects faster than stores key by key). applyRates writes only rates,
 * which a writer's template holds as numbers, so the other leaves keep
 * their parsed values from sample to sample.
 */
function buildView(t: Template): ViewObject {
  const view: ViewObject = { root: {}, objs: [], keys: [], idx: [], rates: [] };
  if (t.root.k !== 'o') return view;
  const { keys, kids } = t.root;
  let text = '';
  keys.forEach((k, i) => {
    if (RATE_INPUTS.has(k)) text += `${text ? ',' : ''}${JSON.stringify(k)}:${viewText(kids[i])}`;
  });
  view.root = JSON.parse(`{${text}}`) as Record<string, unknown>;
  let j = 0;
  keys.forEach((k, i) => {
    if (RATE_INPUTS.has(k)) j = slotsOf(kids[i], view.root, k, view, j);
    else j += leafCount(kids[i]);
  });
  const byLeaf = new Map<number, number>();
  view.idx.forEach((leaf, x) => byLeaf.set(leaf, x));
  view.rates = t.rateLeaves.map(({ j: leaf }) => byLeaf.get(leaf) ?? -1);
  return view;
}

/**
 * Fills the entity's spare view object with vals (rates and numbers JSON
 * cannot hold as null, as the rate text has them) and returns it.
 */
export function fillView(views: EntityViews, vals: Float64Array): ViewObject {
  const next: 0 | 1 = views.last === 0 ? 1 : 0;
  const view = (views.objects[next] ??= buildView(views.t));
  views.last = next;
  const { rate } = views.t;
  const { objs, keys, idx } = view;
  for (let x = 0; x < objs.length; x++) {
    const j = idx[x];
    const v = vals[j];
    // `+ 0`: -0 as the text has it ("0").
    objs[x][keys[x]] = rate[j] || !Number.isFinite(v) ? null : v + 0;
  }
  return view;
}

/** The template's leaf-th rate (rateLeaves order) as applyRates left it in a view, stored (NaN when it computed none). */
export function rateAt(view: ViewObject, leaf: number): number {
  const x = view.rates[leaf];
  const v = x < 0 ? undefined : view.objs[x][view.keys[x]];
  return typeof v === 'number' ? storedNumber(v) : NaN;
}

export function newViews(t: Template): EntityViews {
  return { t, objects: [null, null], last: 1 };
}
