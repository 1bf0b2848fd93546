// The writer's match of a sample's entity against the template of its
// previous sample (src/record/columns.ts): whether it still has the
// template's shape, and its numbers in template order. Most samples of most
// cgroups match; a cgroup whose parts are the very objects of the sample
// before (the collection carries unchanged values over) has those parts'
// numbers copied instead of walked.

import { storedNumber } from './codec.js';
import { leafCount, type Node, type Template } from './templates.js';

/** Where match() writes: out[outAt++]; the template's rate flags, its first number at outStart. */
let out: Float64Array = new Float64Array(0);
let outAt = 0;
let outStart = 0;
let outRate: Uint8Array = new Uint8Array(0);

/**
 * Whether v has template t's shape; if so its numbers (storedNumber; NaN
 * for a null rate) are written to into[at, at + t.leaves) and its process
 * list pushed to lists. (into must have room for them.)
 */
export function matchesInto(v: unknown, t: Template, into: Float64Array, at: number, lists: unknown[][]): boolean {
  out = into;
  outAt = outStart = at;
  outRate = t.rate;
  const ok = match(v, t.root, lists) && outAt - at === t.leaves;
  out = EMPTY_NUMBERS;
  return ok;
}
const EMPTY_NUMBERS = new Float64Array(0);

/** Where each member of a template's root object ends among its numbers (built templates know it). */
const memberEndsMemo = new WeakMap<Template, Int32Array>();
function memberEndsOf(t: Template, root: Node & { k: 'o' }): Int32Array {
  if (t.memberEnds && t.memberEnds.length === root.kids.length) return t.memberEnds;
  let ends = memberEndsMemo.get(t);
  if (!ends) {
    ends = new Int32Array(root.kids.length);
    let end = 0;
    root.kids.forEach((kid, i) => (ends![i] = end += leafCount(kid)));
    memberEndsMemo.set(t, ends);
  }
  return ends;
}

/** Members whose numbers matchesCarriedInto copied, since the start (tests, benchmarks). */
export let membersCopied = 0;

/**
 * matchesInto, for v whose members may be the very objects (===) of the
 * object matched to the same template the sample before (beforeObj, its
 * numbers beforeVals): such a member's numbers are copied from beforeVals
 * instead of walked. Snapshots are read-only but for their rates (applyRates
 * writes them into the objects a collection carries over: model/rates.ts),
 * so the copy is what the walk would give once the member's rates are read
 * again. The same result as matchesInto (the encoder's bytes do not change).
 */
export function matchesCarriedInto(
  v: unknown,
  t: Template,
  into: Float64Array,
  at: number,
  lists: unknown[][],
  beforeObj: unknown,
  beforeVals: Float64Array,
): boolean {
  const root = t.root;
  if (root.k !== 'o' || v === null || typeof v !== 'object' || Array.isArray(v))
    return matchesInto(v, t, into, at, lists);
  if (beforeObj === null || typeof beforeObj !== 'object' || beforeVals.length !== t.leaves) {
    return matchesInto(v, t, into, at, lists);
  }
  const ends = memberEndsOf(t, root);
  // Rate leaves in number order (as templates list them): the ones of member i are those before ends[i].
  const rateLeaves = t.rateLeaves;
  let r = 0;
  const before = beforeObj as Record<string, unknown>;
  out = into;
  outAt = outStart = at;
  outRate = t.rate;
  let ok = true;
  let i = 0;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    const kid = root.kids[i];
    if (k !== root.keys[i]) ok = false;
    else if (x !== null && typeof x === 'object' && x === before[k] && (kid.k === 'o' || kid.k === 'a')) {
      const start = i === 0 ? 0 : ends[i - 1];
      // `into`, not the module's `out`: a loop over a module variable reloads and rechecks it each turn (4x slower).
      for (let j = start; j < ends[i]; j++) into[at + j] = beforeVals[j];
      outAt = at + ends[i];
      membersCopied++;
      for (; r < rateLeaves.length && rateLeaves[r].j < ends[i]; r++)
        if (!rateInto(x, rateLeaves[r], into, at)) ok = false;
    } else ok = match(x, kid, lists);
    for (; r < rateLeaves.length && rateLeaves[r].j < ends[i]; r++); // a walked member's rates: walked
    if (!ok) break;
    i++;
  }
  ok = ok && i === root.keys.length && outAt - at === t.leaves;
  out = EMPTY_NUMBERS;
  return ok;
}

/** A rate leaf of a member (member: the object at its first key) read again into `into`, as match() writes it. */
function rateInto(member: object, leaf: { j: number; keys: string[] }, into: Float64Array, at: number): boolean {
  let v: unknown = member;
  const keys = leaf.keys;
  for (let x = 1; x < keys.length; x++) {
    if (v === null || typeof v !== 'object') return false;
    v = (v as Record<string, unknown>)[keys[x]];
  }
  if (typeof v === 'number') into[at + leaf.j] = storedNumber(v);
  else if (v === null) into[at + leaf.j] = NaN;
  else return false;
  return true;
}

function match(v: unknown, n: Node, lists: unknown[][]): boolean {
  switch (n.k) {
    case 'l':
      if (!Array.isArray(v)) return false;
      lists.push(v.slice());
      return true;
    case 'n':
      if (outAt >= out.length) return false;
      if (typeof v === 'number') out[outAt++] = storedNumber(v);
      else if (v === null && outRate[outAt - outStart] === 1) out[outAt++] = NaN;
      else return false;
      return true;
    case 'v':
      return v === n.v;
    case 'a':
      if (!Array.isArray(v) || v.length !== n.kids.length) return false;
      for (let i = 0; i < v.length; i++) if (!match(v[i], n.kids[i], lists)) return false;
      return true;
    case 'o': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
      let i = 0;
      for (const k in v) {
        if (k !== n.keys[i] || !match((v as Record<string, unknown>)[k], n.kids[i], lists)) return false;
        i++;
      }
      return i === n.keys.length;
    }
  }
}
