// A skeleton's value strings (template-scan.ts): the cgroups of a host have
// skeletons that differ only in them (the id and the name, a label's value),
// every key, number, null and bracket at the same place of the text around
// them. A skeleton whose text between its value strings is the last scanned
// one's is that one's scan with its places moved by how much longer or
// shorter each string before them is: a key frame of a thousand cgroups
// then scans one skeleton in full and compares the others.

/** The end (after the closing quote) of the JSON string starting at `at`, or -1. */
export function stringEnd(text: string, at: number): number {
  let q = text.indexOf('"', at + 1);
  while (q > 0) {
    // A quote after an odd run of backslashes is escaped.
    let b = q - 1;
    while (text.charCodeAt(b) === 92 /* backslash */) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
  return -1;
}

/** A skeleton scanned in full, as its value strings cut it. */
export interface StringCut {
  /** The text before value string k (fixed[k]) and after the last (fixed[ends.length]). */
  fixed: string[];
  /** Where each value string ends in that skeleton (after its quote), ascending. */
  ends: Int32Array;
}

/** The value strings at [starts[2k], starts[2k + 1]) of `text` (count pairs, ascending) as a StringCut. */
export function stringCutOf(text: string, spans: Int32Array, count: number): StringCut {
  const fixed: string[] = [];
  const ends = new Int32Array(count);
  let from = 0;
  for (let k = 0; k < count; k++) {
    fixed.push(text.slice(from, spans[2 * k]));
    from = ends[k] = spans[2 * k + 1];
  }
  fixed.push(text.slice(from));
  return { fixed, ends };
}

/** For each value string of the cut skeleton, how far `text` moves what follows it (cumulative); kept between calls. */
let movedBy = new Int32Array(64);

/**
 * Whether `text` is the cut skeleton with other value strings: then
 * movedBy[k] is how much later than in the cut skeleton `text` has what
 * follows value string k, and the count of strings is returned; else -1.
 */
export function sameBesideStrings(cut: StringCut, text: string): number {
  const { fixed, ends } = cut;
  if (movedBy.length < ends.length) movedBy = new Int32Array(ends.length * 2);
  let p = 0;
  for (let k = 0; k < ends.length; k++) {
    const before = fixed[k];
    if (!text.startsWith(before, p)) return -1;
    p += before.length;
    // The cut skeleton has a string here, after the same text: so does this one, or it is not alike.
    if (text.charCodeAt(p) !== 34 /* quote */) return -1;
    const end = stringEnd(text, p);
    if (end < 0) return -1;
    movedBy[k] = end - ends[k];
    p = end;
  }
  const tail = fixed[ends.length];
  return text.length === p + tail.length && text.startsWith(tail, p) ? ends.length : -1;
}

/** A place of the cut skeleton (never inside a value string) in the text sameBesideStrings() matched. */
export function movedPlace(cut: StringCut, place: number): number {
  const ends = cut.ends;
  let k = 0;
  while (k < ends.length && ends[k] <= place) k++;
  return k === 0 ? place : place + movedBy[k - 1];
}

/**
 * Ascending places of the cut skeleton in the text sameBesideStrings()
 * matched; `places` itself when none of them moved.
 */
export function movedPlaces(cut: StringCut, places: Int32Array): Int32Array {
  const n = places.length;
  const ends = cut.ends;
  let moved = false;
  for (let k = 0; n > 0 && k < ends.length && ends[k] <= places[n - 1] && !moved; k++) moved = movedBy[k] !== 0;
  // Nothing before the last place moved (strings of the same lengths, or only after it): the same places.
  if (!moved) return places;
  const out = new Int32Array(n);
  let k = 0;
  let by = 0;
  for (let x = 0; x < n; x++) {
    const place = places[x];
    while (k < ends.length && ends[k] <= place) by = movedBy[k++];
    out[x] = place + by;
  }
  return out;
}
