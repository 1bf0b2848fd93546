// A template's text parts, rate flags and rate view read straight off its
// skeleton text, in one pass: what a reader needs of a template, without
// parsing the skeleton into a tree and printing it back (templates.ts'
// compileTemplate). A seek decodes a key frame of a thousand cgroups, each
// with its own template, so this is most of a key frame's cost. The result
// is the compile's (a skeleton is skeletonOf's text: canonical JSON with
// every number written 0); test/unit/record-seek.test.ts compares the two on
// every shape the model makes. Anything else in a skeleton (another number,
// whitespace, broken JSON) gives null, and the caller compiles it. A
// skeleton that is one of the last scanned but for its value strings (most
// cgroups of a key frame: they differ in their id and name) is that scan
// with its places moved (skeleton-strings.ts); the text with the numbers is
// printed by template-text.ts.

import {
  movedPlace,
  movedPlaces,
  sameBesideStrings,
  stringCutOf,
  stringEnd,
  type StringCut,
} from './skeleton-strings.js';

/**
 * What the scan gives: a Template's fields other than its tree and paths
 * (compiled on demand), and its text as places in the skeleton rather than
 * text parts (fewer strings kept for as long as the cgroup lives: a key
 * frame reads a thousand templates, and what it keeps the garbage collector copies).
 */
export interface ScannedTemplate {
  leaves: number;
  /** 1 where the number is a rate (RATE_PATHS). */
  rate: Uint8Array;
  /** Where each rate is in the entity's object. */
  rateLeaves: { j: number; keys: string[] }[];
  /** Where each number is in the skeleton (its 0). */
  cuts: Int32Array;
  /** Where the process list is in the skeleton (its []), or -1. */
  listAt: number;
  /** The index of the first number after the process list (-1: no list). */
  listPart: number;
  /** The rate view: [start, end) of each member applyRates reads (RATE_INPUTS) in the skeleton, and its numbers' indexes. */
  rateSpans: Int32Array;
  rateIdx: Int32Array;
  /** Each number's path, when asked for (what compile() gives as paths). */
  paths?: string[];
  /** What a cgroup's selection and order read (asked for with `select`); null when a wanted member holds a number. */
  select?: SelectPlaces | null;
}

/** What to find for the selection and order of cgroups (model/select.ts reads these). */
export interface SelectWanted {
  /** Top-level members read whole (they hold no number: strings, booleans, nulls). */
  keys: ReadonlySet<string>;
  /** Numbers by path ("memory.workingSetBytes"): their indexes in the numbers. */
  places: readonly string[];
}

/** Where the wanted parts are in a skeleton. */
export interface SelectPlaces {
  /** [start, end) of each wanted member (`"key":value`) in the skeleton. */
  spans: Int32Array;
  /** Per wanted place: the index of its number, or -1 when it is not a number in this template. */
  leaves: Int32Array;
}

/**
 * The scan's top-level members and numbers, in arrays kept from one scan to
 * the next (a key frame scans a thousand templates: objects per member and
 * growing arrays per template were most of what the garbage collector copied).
 * A member is MEMBER_FIELDS ints: its key's span (quotes included), where its
 * value ends, and its numbers [firstLeaf, leafEnd).
 */
const MEMBER_FIELDS = 5;
const KEY_START = 0;
const KEY_END = 1;
const VALUE_END = 2;
const FIRST_LEAF = 3;
const LEAF_END = 4;
let memberFields = new Int32Array(MEMBER_FIELDS * 64);
/** Where each number is in the skeleton (its 0), in scan order. */
let leafScratch = new Int32Array(1024);
/** Where each value string is in the skeleton ([start, end) pairs, quotes included), in scan order. */
let stringScratch = new Int32Array(256);

/** A copy of `array` with room for at least `atLeast` ints (twice its length at the least). */
function grown(array: Int32Array<ArrayBuffer>, atLeast: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(Math.max(array.length * 2, atLeast));
  bigger.set(array);
  return bigger;
}

const QUOTE = 34;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COMMA = 44;
const COLON = 58;
const ZERO = 48;

/** A set of keys as the skeleton writes them (quoted), by length: a key is looked for where it is, with no string cut out. */
type QuotedKeys = (string[] | undefined)[];
const quotedMemo = new WeakMap<ReadonlySet<string>, QuotedKeys>();

function quotedOf(keys: ReadonlySet<string>): QuotedKeys {
  let out = quotedMemo.get(keys);
  if (!out) {
    out = [];
    for (const k of keys) {
      const q = JSON.stringify(k);
      (out[q.length] ??= []).push(q);
    }
    quotedMemo.set(keys, out);
  }
  return out;
}

const quotedKeyMemo = new Map<string, string>();
function quotedKeyOf(key: string): string {
  let q = quotedKeyMemo.get(key);
  if (q === undefined) quotedKeyMemo.set(key, (q = JSON.stringify(key)));
  return q;
}

/** Whether text[start, end) is one of the quoted keys. */
function isKeyIn(text: string, start: number, end: number, keys: QuotedKeys): boolean {
  const candidates = keys[end - start];
  if (candidates === undefined) return false;
  for (let x = 0; x < candidates.length; x++) if (text.startsWith(candidates[x], start)) return true;
  return false;
}

/** The open objects and arrays of a scan, innermost last (deeper than this: not a skeleton the scan reads). */
const MAX_DEPTH = 64;
const isArrayAt = new Uint8Array(MAX_DEPTH);
/** An object's current key: text[keyStartAt, keyEndAt), quotes included; an array's current index. */
const keyStartAt = new Int32Array(MAX_DEPTH);
const keyEndAt = new Int32Array(MAX_DEPTH);
const indexAt = new Int32Array(MAX_DEPTH);

function keyOf(text: string, d: number): string {
  if (isArrayAt[d] === 1) return String(indexAt[d]);
  const keyText = text.slice(keyStartAt[d], keyEndAt[d]);
  return keyText.includes('\\') ? (JSON.parse(keyText) as string) : keyText.slice(1, -1);
}

/** The dotted path of the number under the open containers (as compile() writes it). */
function pathOf(text: string, depth: number): string {
  let path = keyOf(text, 0);
  for (let d = 1; d < depth; d++) path += `.${keyOf(text, d)}`;
  return path;
}

/**
 * A top-level member's scan, kept for the next template: the cgroups of a
 * host share most members' text (a skeleton's numbers are all 0: one idle
 * cgroup's "cpu", "memory" or "pressure" reads as another's), so a member
 * whose text is the last one's at the same place is not scanned again. A
 * JSON value is known whole from its first character, so the text starting
 * with the kept one means the member is that text.
 */
interface MemberMemo {
  /** `"key":value` as in the skeleton. */
  text: string;
  /** Its numbers' places, from the member's start. */
  leaves: Int32Array;
  /** Its rates, numbered from its first number. */
  rates: { j: number; keys: string[] }[];
  /** Its wanted places: place index, number (from its first), in pairs. */
  places: number[];
  /** Its value strings' [start, end), from the member's start. */
  strings: Int32Array;
}
const MAX_MEMO_MEMBERS = 256;
let memberMemo: (MemberMemo | undefined)[] = [];
/** What the kept scans were made with (another caller's keys: scanned again). */
let memoMadeWith: readonly unknown[] = [];
/** The last skeletons scanned in full (most recent first), as their value strings cut them (skeleton-strings.ts). */
const MAX_WHOLE_SCANS = 4;
let wholeScans: { cut: StringCut; scan: ScannedTemplate }[] = [];

/** The scan of a skeleton that is a kept one's but for its value strings: the kept scan, its places moved. */
function movedScan(text: string): ScannedTemplate | null {
  for (let x = 0; x < wholeScans.length; x++) {
    const { cut, scan } = wholeScans[x];
    if (sameBesideStrings(cut, text) < 0) continue;
    // What counts numbers (not places) is the same: shared, as no reader writes into them.
    return {
      leaves: scan.leaves,
      rate: scan.rate,
      rateLeaves: scan.rateLeaves,
      cuts: movedPlaces(cut, scan.cuts),
      listAt: scan.listAt < 0 ? -1 : movedPlace(cut, scan.listAt),
      listPart: scan.listPart,
      rateSpans: movedPlaces(cut, scan.rateSpans),
      rateIdx: scan.rateIdx,
      paths: undefined,
      select: scan.select && { spans: movedPlaces(cut, scan.select.spans), leaves: scan.select.leaves },
    };
  }
  return null;
}

/**
 * Scans `skeleton`. A number whose own key is in `rateLeafKeys` has its whole
 * path built and `isRatePath` asked; `listKey` is the top-level key whose
 * array is a process list; `rateInputs` the top-level keys of the rate view; `withPaths`: every number's path too.
 */
export function scanTemplate(
  skeleton: string,
  rateLeafKeys: ReadonlySet<string>,
  isRatePath: (path: string) => boolean,
  listKey: string,
  rateInputs: ReadonlySet<string>,
  withPaths = false,
  select?: SelectWanted,
): ScannedTemplate | null {
  const text = skeleton;
  // Members' scans of earlier templates (not when paths are asked for: those are not kept).
  if (rateLeafKeys !== memoMadeWith[0] || isRatePath !== memoMadeWith[1] || select !== memoMadeWith[2]) {
    memberMemo = [];
    wholeScans = [];
    memoMadeWith = [rateLeafKeys, isRatePath, select];
  }
  const moved = withPaths ? null : movedScan(text);
  if (moved) return moved;
  // A wanted place is found as a rate is: by its own key first, then its path.
  const placeAt = select && placeIndexOf(select.places);
  const placeLeaves = select && new Int32Array(select.places.length).fill(-1);
  const leafKeys = select ? withPlaceKeys(rateLeafKeys, select.places) : rateLeafKeys;
  const paths: string[] | undefined = withPaths ? [] : undefined;
  const n = text.length;
  if (text.charCodeAt(0) !== OPEN_OBJECT) return null;
  const leafQuoted = quotedOf(leafKeys);
  const memo = withPaths ? null : memberMemo;
  /** The member being scanned is to be kept (its rates start at this index); -1: not. */
  let memoRates = -1;
  const rateQuoted = quotedOf(rateLeafKeys);
  const listQuoted = quotedKeyOf(listKey);
  /** Numbers so far (in leafScratch), members so far (in memberFields), the current member's first field (-1: none). */
  let leaves = 0;
  let strings = 0;
  let memberCount = 0;
  let member = -1;
  const rateLeaves: { j: number; keys: string[] }[] = [];
  let depth = 0;
  let listPart = -1;
  let listAt = -1;
  let expectKey = false;
  let p = 0;
  while (p < n) {
    const c = text.charCodeAt(p);
    if (c === QUOTE) {
      const end = stringEnd(text, p);
      if (end < 0) return null;
      if (!expectKey) {
        if (2 * strings + 2 > stringScratch.length) stringScratch = grown(stringScratch, 0);
        stringScratch[2 * strings] = p;
        stringScratch[2 * strings++ + 1] = end;
        p = end;
        continue;
      }
      if (text.charCodeAt(end) !== COLON) return null;
      keyStartAt[depth - 1] = p;
      keyEndAt[depth - 1] = end;
      expectKey = false;
      if (depth === 1) {
        member = memberCount * MEMBER_FIELDS;
        if (member + MEMBER_FIELDS > memberFields.length) memberFields = grown(memberFields, 0);
        memberFields[member + KEY_START] = p;
        memberFields[member + KEY_END] = end;
        memberFields[member + VALUE_END] = n;
        memberFields[member + FIRST_LEAF] = leaves;
        memberFields[member + LEAF_END] = 0;
        memberCount++;
        if (
          end - p === listQuoted.length &&
          text.startsWith(listQuoted, p) &&
          text.charCodeAt(end + 1) === OPEN_ARRAY
        ) {
          // The process list (a skeleton writes it []): its place in the parts is the mark.
          if (text.charCodeAt(end + 2) !== CLOSE_ARRAY || listAt >= 0) return null;
          listAt = end + 1;
          listPart = leaves;
          p = end + 3;
          continue;
        }
        const v = text.charCodeAt(end + 1);
        if (memo && (v === OPEN_OBJECT || v === OPEN_ARRAY) && memberCount <= MAX_MEMO_MEMBERS) {
          const kept = memo[memberCount - 1];
          if (kept !== undefined && text.startsWith(kept.text, p)) {
            // The same text as the last template's member here: its scan, moved to this place.
            const base = leaves;
            const keptLeaves = kept.leaves;
            if (base + keptLeaves.length > leafScratch.length)
              leafScratch = grown(leafScratch, base + keptLeaves.length);
            for (let x = 0; x < keptLeaves.length; x++) leafScratch[leaves++] = p + keptLeaves[x];
            const keptRates = kept.rates;
            for (let x = 0; x < keptRates.length; x++)
              rateLeaves.push({ j: base + keptRates[x].j, keys: keptRates[x].keys });
            for (let x = 0; x < kept.places.length; x += 2) placeLeaves![kept.places[x]] = base + kept.places[x + 1];
            const keptStrings = kept.strings;
            if (2 * strings + keptStrings.length > stringScratch.length)
              stringScratch = grown(stringScratch, 2 * strings + keptStrings.length);
            for (let x = 0; x < keptStrings.length; x++) stringScratch[2 * strings + x] = p + keptStrings[x];
            strings += keptStrings.length / 2;
            p += kept.text.length;
            continue;
          }
          memoRates = rateLeaves.length;
        }
      }
      p = end + 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === MAX_DEPTH) return null;
      isArrayAt[depth] = c === OPEN_ARRAY ? 1 : 0;
      indexAt[depth] = 0;
      depth++;
      p++;
      // An object's first key, unless it is empty.
      expectKey = c === OPEN_OBJECT && text.charCodeAt(p) !== CLOSE_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0 || isArrayAt[depth - 1] !== (c === CLOSE_ARRAY ? 1 : 0)) return null;
      depth--;
      if (depth === 0 && member >= 0) {
        memberFields[member + VALUE_END] = p;
        memberFields[member + LEAF_END] = leaves;
        if (memoRates >= 0)
          memoRates = keep(memo!, memberCount - 1, text, member, rateLeaves, memoRates, placeLeaves, strings);
      }
      p++;
    } else if (c === COMMA) {
      if (depth === 0) return null;
      if (isArrayAt[depth - 1] === 1) indexAt[depth - 1]++;
      else expectKey = true;
      if (depth === 1 && member >= 0) {
        memberFields[member + VALUE_END] = p;
        memberFields[member + LEAF_END] = leaves;
        if (memoRates >= 0)
          memoRates = keep(memo!, memberCount - 1, text, member, rateLeaves, memoRates, placeLeaves, strings);
      }
      p++;
    } else if (c === ZERO) {
      // A number (a skeleton writes every number 0): a cut between two parts.
      const next = text.charCodeAt(p + 1);
      if (depth === 0 || (next !== COMMA && next !== CLOSE_OBJECT && next !== CLOSE_ARRAY)) return null;
      const top = depth - 1;
      // A rate's own key is an object key of a known length (quotes excluded).
      if (isArrayAt[top] === 0 && isKeyIn(text, keyStartAt[top], keyEndAt[top], leafQuoted)) {
        // A rate's or a wanted place's own key: its whole path decides.
        const path = pathOf(text, depth);
        if (isKeyIn(text, keyStartAt[top], keyEndAt[top], rateQuoted) && isRatePath(path))
          rateLeaves.push({ j: leaves, keys: keysOf(path) });
        const x = placeAt?.get(path);
        if (x !== undefined) placeLeaves![x] = leaves;
      }
      if (paths) paths.push(pathOf(text, depth));
      if (leaves === leafScratch.length) leafScratch = grown(leafScratch, leaves + 1);
      leafScratch[leaves++] = p;
      p++;
    } else if (c === 116 /* t */ || c === 102 /* f */ || c === 110 /* n */) {
      const word = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
      if (!text.startsWith(word, p)) return null;
      p += word.length;
    } else return null; // another number, or whitespace: not a skeleton as skeletonOf writes it
  }
  if (depth !== 0) return null;
  const rate = new Uint8Array(leaves);
  for (let x = 0; x < rateLeaves.length; x++) rate[rateLeaves[x].j] = 1;
  const view = rateViewOf(memberCount, quotedOf(rateInputs), text);
  const scan: ScannedTemplate = {
    leaves,
    rate,
    rateLeaves,
    cuts: leafScratch.slice(0, leaves),
    listAt,
    listPart,
    rateSpans: view.rateSpans,
    rateIdx: view.rateIdx,
    paths,
    select: select && selectSpans(memberCount, quotedOf(select.keys), placeLeaves!, text),
  };
  if (!withPaths) {
    wholeScans.unshift({ cut: stringCutOf(text, stringScratch, strings), scan });
    if (wholeScans.length > MAX_WHOLE_SCANS) wholeScans.pop();
  }
  return scan;
}

/** Keeps a member's scan (memo[at]) for the next template; returns -1 (nothing pending). */
function keep(
  memo: (MemberMemo | undefined)[],
  at: number,
  text: string,
  m: number,
  rateLeaves: readonly { j: number; keys: string[] }[],
  firstRate: number,
  placeLeaves: Int32Array | null | undefined,
  strings: number,
): -1 {
  const keyStart = memberFields[m + KEY_START];
  const firstLeaf = memberFields[m + FIRST_LEAF];
  const leafEnd = memberFields[m + LEAF_END];
  const leaves = new Int32Array(leafEnd - firstLeaf);
  for (let j = firstLeaf; j < leafEnd; j++) leaves[j - firstLeaf] = leafScratch[j] - keyStart;
  const places: number[] = [];
  if (placeLeaves)
    for (let x = 0; x < placeLeaves.length; x++)
      if (placeLeaves[x] >= firstLeaf && placeLeaves[x] < leafEnd) places.push(x, placeLeaves[x] - firstLeaf);
  // The member's value strings: the last ones scanned, from its key on.
  let first = strings;
  while (first > 0 && stringScratch[2 * first - 2] >= keyStart) first--;
  const memberStrings = stringScratch.slice(2 * first, 2 * strings);
  for (let x = 0; x < memberStrings.length; x++) memberStrings[x] -= keyStart;
  memo[at] = {
    text: text.slice(keyStart, memberFields[m + VALUE_END]),
    strings: memberStrings,
    leaves,
    rates: rateLeaves.slice(firstRate).map((r) => ({ j: r.j - firstLeaf, keys: r.keys })),
    places,
  };
  return -1;
}

/** A path's keys (as compile() splits it), one array per path. */
const keysMemo = new Map<string, string[]>();
function keysOf(path: string): string[] {
  let keys = keysMemo.get(path);
  if (!keys) {
    if (keysMemo.size > 100_000) keysMemo.clear();
    keysMemo.set(path, (keys = path.split('.')));
  }
  return keys;
}

const placeIndexMemo = new WeakMap<readonly string[], Map<string, number>>();

/** Each wanted place's index, by its path. */
function placeIndexOf(places: readonly string[]): Map<string, number> {
  let out = placeIndexMemo.get(places);
  if (!out) placeIndexMemo.set(places, (out = new Map(places.map((p, x) => [p, x]))));
  return out;
}

const leafKeysMemo = new WeakMap<ReadonlySet<string>, WeakMap<readonly string[], ReadonlySet<string>>>();

/** The rates' own keys and the wanted places' (the last key of each). */
function withPlaceKeys(rateLeafKeys: ReadonlySet<string>, places: readonly string[]): ReadonlySet<string> {
  let byPlaces = leafKeysMemo.get(rateLeafKeys);
  if (!byPlaces) leafKeysMemo.set(rateLeafKeys, (byPlaces = new WeakMap()));
  let out = byPlaces.get(places);
  if (!out)
    byPlaces.set(places, (out = new Set([...rateLeafKeys, ...places.map((p) => p.slice(p.lastIndexOf('.') + 1))])));
  return out;
}

/** The spans of the wanted members, or null when one of them holds a number (not a member read whole). */
function selectSpans(memberCount: number, keys: QuotedKeys, leaves: Int32Array, text: string): SelectPlaces | null {
  const spans: number[] = [];
  for (let m = 0; m < memberCount * MEMBER_FIELDS; m += MEMBER_FIELDS) {
    if (!isKeyIn(text, memberFields[m + KEY_START], memberFields[m + KEY_END], keys)) continue;
    if (memberFields[m + LEAF_END] !== memberFields[m + FIRST_LEAF]) return null;
    spans.push(memberFields[m + KEY_START], memberFields[m + VALUE_END]);
  }
  return { spans: new Int32Array(spans), leaves };
}

/** The rate view: the spans of the rateInputs members, and their numbers' indexes. */
function rateViewOf(
  memberCount: number,
  rateInputs: QuotedKeys,
  text: string,
): { rateSpans: Int32Array; rateIdx: Int32Array } {
  const spans: number[] = [];
  const idx: number[] = [];
  for (let m = 0; m < memberCount * MEMBER_FIELDS; m += MEMBER_FIELDS) {
    if (!isKeyIn(text, memberFields[m + KEY_START], memberFields[m + KEY_END], rateInputs)) continue;
    spans.push(memberFields[m + KEY_START], memberFields[m + VALUE_END]);
    for (let j = memberFields[m + FIRST_LEAF]; j < memberFields[m + LEAF_END]; j++) idx.push(j);
  }
  return { rateSpans: new Int32Array(spans), rateIdx: new Int32Array(idx) };
}
