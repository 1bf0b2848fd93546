// The writer's rate views (see derivable in columns.ts): what applyRates
// reads of each entity, filled with the stored numbers, kept as objects
// between samples. Each entity has two of them, used in turn: the previous
// sample's stays intact as applyRates' base while this sample's is filled in
// place. Only a new template builds its objects (from the template's rate
// text, as replay does), so a sample costs an assignment per number instead
// of a thousand cgroups' JSON text built and parsed again.

import { storedNumber } from './codec.js';
import type { Template } from './templates.js';

/** A number's place in a rate view: obj[key]. */
interface Slot {
  obj: Record<string | number, unknown>;
  key: string | number;
}

interface ViewObject {
  root: Record<string, unknown>;
  /** The rate view's numbers, in rateIdx order. */
  numbers: Slot[];
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

/** The leaves of a template node as slots in obj[key] (numbers to `numbers`, other leaves to `fixed`). */
function slotsOf(n: TemplateNode, obj: Record<string | number, unknown>, key: string | number, view: ViewObject): void {
  switch (n.k) {
    case 'n':
      view.numbers.push({ obj, key });
      return;
    case 'v':
      view.fixed.push({ slot: { obj, key }, value: n.v });
      return;
    case 'l':
      return;
    case 'o': {
      const child = obj[key] as Record<string, unknown>;
      n.kids.forEach((kid, i) => slotsOf(kid, child, n.keys[i], view));
      return;
    }
    case 'a': {
      const child = obj[key] as unknown as Record<number, unknown>;
      n.kids.forEach((kid, i) => slotsOf(kid, child, i, view));
      return;
    }
  }
}

/** A new view object of template t (its numbers to be filled in). */
function buildView(t: Template): ViewObject {
  let text = t.rateParts[0];
  for (let x = 1; x < t.rateParts.length; x++) text += `null${t.rateParts[x]}`;
  const root = JSON.parse(text) as Record<string, unknown>;
  const view: ViewObject = { root, numbers: [], fixed: [], rates: [] };
  if (t.root.k === 'o') {
    const { keys, kids } = t.root;
    keys.forEach((k, i) => {
      if (Object.prototype.hasOwnProperty.call(root, k)) slotsOf(kids[i], root, k, view);
    });
  }
  const byLeaf = new Map<number, Slot>();
  t.rateIdx.forEach((j, x) => byLeaf.set(j, view.numbers[x]));
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
  const { rateIdx, rate } = views.t;
  const numbers = view.numbers;
  for (let x = 0; x < numbers.length; x++) {
    const j = rateIdx[x];
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
