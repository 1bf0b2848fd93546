// The writer's rate views (see derivable in columns.ts): what applyRates
// reads of each entity, filled with the stored numbers, kept as objects
// between samples. Each entity has two of them, used in turn: the previous
// sample's stays intact as applyRates' base while this sample's is filled in
// place. Only a new template builds its objects (from the template's tree:
// the same objects replay parses from the template's rate text), so a
// sample costs an assignment per number instead of a thousand cgroups' JSON
// text built and parsed again.

import { storedNumber } from './codec.js';
import { RATE_INPUTS, type Template } from './templates.js';

/** A number's place in a rate view: obj[key]. */
interface Slot {
  obj: Record<string | number, unknown>;
  key: string | number;
}

interface ViewObject {
  root: Record<string, unknown>;
  /** The rate view's numbers, in leaf order. */
  numbers: Slot[];
  /** Each number's leaf index in the template. */
  idx: number[];
  /** The other leaves (strings, nulls) under the rate inputs, with their template values: reset before each use. */
  fixed: { slot: Slot; value: unknown }[];
  /** Where each of the template's rate leaves is (rateLeaves order; null: not in the view). */
  rates: (Slot | null)[];
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

/**
 * Builds node n's value at obj[key] (numbers null, other leaves as in the
 * template), its numbers' slots to `numbers` and their leaf indexes (from j
 * on) to `idx`, the other leaves to `fixed`; returns the next leaf index.
 */
function slotsOf(
  n: TemplateNode,
  obj: Record<string | number, unknown>,
  key: string | number,
  view: ViewObject,
  j: number,
): number {
  switch (n.k) {
    case 'n':
      obj[key] = null;
      view.numbers.push({ obj, key });
      view.idx.push(j);
      return j + 1;
    case 'v':
      obj[key] = n.v;
      view.fixed.push({ slot: { obj, key }, value: n.v });
      return j;
    case 'l':
      obj[key] = [];
      return j;
    case 'o': {
      const child: Record<string, unknown> = {};
      obj[key] = child;
      n.kids.forEach((kid, i) => (j = slotsOf(kid, child, n.keys[i], view, j)));
      return j;
    }
    case 'a': {
      const child: unknown[] = [];
      obj[key] = child;
      n.kids.forEach((kid, i) => (j = slotsOf(kid, child as unknown as Record<number, unknown>, i, view, j)));
      return j;
    }
  }
}

/** A new view object of template t (its numbers to be filled in): the root's RATE_INPUTS members, built from the tree. */
function buildView(t: Template): ViewObject {
  const root: Record<string, unknown> = {};
  const view: ViewObject = { root, numbers: [], idx: [], fixed: [], rates: [] };
  if (t.root.k === 'o') {
    const { keys, kids } = t.root;
    let j = 0;
    keys.forEach((k, i) => {
      if (RATE_INPUTS.has(k)) j = slotsOf(kids[i], root, k, view, j);
      else j += leafCount(kids[i]);
    });
  }
  const byLeaf = new Map<number, Slot>();
  view.idx.forEach((j, x) => byLeaf.set(j, view.numbers[x]));
  view.rates = t.rateLeaves.map(({ j }) => byLeaf.get(j) ?? null);
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
  const { numbers, idx } = view;
  for (let x = 0; x < numbers.length; x++) {
    const j = idx[x];
    const v = vals[j];
    // `+ 0`: -0 as the text has it ("0").
    numbers[x].obj[numbers[x].key] = rate[j] || !Number.isFinite(v) ? null : v + 0;
  }
  for (const { slot, value } of view.fixed) slot.obj[slot.key] = value;
  return view;
}

/** The template's leaf-th rate (rateLeaves order) as applyRates left it in a view, stored (NaN when it computed none). */
export function rateAt(view: ViewObject, leaf: number): number {
  const slot = view.rates[leaf];
  const v = slot ? slot.obj[slot.key] : undefined;
  return typeof v === 'number' ? storedNumber(v) : NaN;
}

export function newViews(t: Template): EntityViews {
  return { t, objects: [null, null], last: 1 };
}
