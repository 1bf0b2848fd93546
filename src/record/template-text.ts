// A scanned template's text with a sample's numbers (template-scan.ts reads
// the template): an entity's JSON, its rate view for applyRates, and the
// text parts a compiled template has, all cut from the skeleton at the
// places the scan found.

import type { ScannedTemplate } from './template-scan.js';

/** An entity's JSON text: the skeleton with its numbers, and its process list (when it has one) in place of []. */
export function scannedText(
  skeleton: string,
  t: ScannedTemplate,
  vals: Float64Array,
  list: readonly unknown[] | null,
): string {
  // Pieces joined once, not a rope of a hundred concatenations per cgroup: a seek prints a thousand of these.
  const pieces: string[] = [];
  scannedTextInto(skeleton, t, vals, list, pieces);
  return pieces.join('');
}

/** scannedText's pieces, pushed onto `pieces` (a sample's cgroups joined once: sample-text.ts). */
export function scannedTextInto(
  skeleton: string,
  t: ScannedTemplate,
  vals: Float64Array,
  list: readonly unknown[] | null,
  pieces: string[],
): void {
  const { cuts, listAt, listPart } = t;
  let from = 0;
  for (let j = 0; j < cuts.length; j++) {
    if (j === listPart) {
      pieces.push(skeleton.slice(from, listAt), listText(list));
      from = listAt + 2;
    }
    const v = vals[j];
    // The skeleton writes every number 0: a 0 (or -0, which prints 0) is its text already, not cut out.
    if (v === 0) continue;
    pieces.push(skeleton.slice(from, cuts[j]), Number.isFinite(v) ? String(v) : 'null');
    from = cuts[j] + 1;
  }
  if (listPart === cuts.length) {
    pieces.push(skeleton.slice(from, listAt), listText(list));
    from = listAt + 2;
  }
  pieces.push(skeleton.slice(from));
}

function listText(list: readonly unknown[] | null): string {
  return list === null || list.length === 0 ? '[]' : JSON.stringify(list);
}

/**
 * Walks a scanned template's rate view (its rateSpans members): `number` gets
 * the text before each of its numbers and the number's index; returns the
 * text after the last.
 */
function walkRateView(skeleton: string, t: ScannedTemplate, number: (before: string, j: number) => void): string {
  const { rateSpans, rateIdx, cuts } = t;
  let current = '{';
  let x = 0;
  for (let k = 0; k < rateSpans.length; k += 2) {
    let from = rateSpans[k];
    const end = rateSpans[k + 1];
    if (k > 0) current += ',';
    for (; x < rateIdx.length && cuts[rateIdx[x]] < end; x++) {
      const j = rateIdx[x];
      number(current + skeleton.slice(from, cuts[j]), j);
      current = '';
      from = cuts[j] + 1;
    }
    current += skeleton.slice(from, end);
  }
  return `${current}}`;
}

/** An entity's rate view as JSON text, with its numbers (rates as null: for applyRates to fill). */
export function scannedRateText(skeleton: string, t: ScannedTemplate, vals: Float64Array): string {
  // walkRateView's walk, written out and joined once (as scannedText): a seek makes two per cgroup (its sample's and the one before).
  const { rateSpans, rateIdx, cuts, rate } = t;
  const pieces = ['{'];
  let x = 0;
  for (let k = 0; k < rateSpans.length; k += 2) {
    let from = rateSpans[k];
    const end = rateSpans[k + 1];
    if (k > 0) pieces.push(',');
    for (; x < rateIdx.length; x++) {
      const j = rateIdx[x];
      const cut = cuts[j];
      if (cut >= end) break;
      const v = vals[j];
      if (v === 0 && rate[j] !== 1) continue; // the skeleton's own 0 (scannedText)
      pieces.push(skeleton.slice(from, cut), rate[j] === 1 || !Number.isFinite(v) ? 'null' : String(v));
      from = cut + 1;
    }
    pieces.push(skeleton.slice(from, end));
  }
  pieces.push('}');
  return pieces.join('');
}

/**
 * scannedRateText of two samples of one cgroup (its template the same in
 * both: now's numbers and the ones before), in one walk: each piece of
 * skeleton is cut once for the two. The texts' pieces are pushed onto
 * `pieces` and `piecesBefore`, for the caller to join once for all cgroups
 * (a join per cgroup cost a seek ~3 ms). A second copy of the walk on purpose:
 * `snapshot --at` runs without TurboFan, where one walk over a list of number
 * sets (scannedRateText its one-set case) cost a seek ~25 ms more CPU
 * (median of 4 interleaved runs of record-seek.js, 172 vs 147 ms).
 */
export function scannedRateTexts(
  skeleton: string,
  t: ScannedTemplate,
  vals: Float64Array,
  valsBefore: Float64Array,
  pieces: string[],
  piecesBefore: string[],
): void {
  const { rateSpans, rateIdx, cuts, rate } = t;
  pieces.push('{');
  piecesBefore.push('{');
  let x = 0;
  for (let k = 0; k < rateSpans.length; k += 2) {
    let from = rateSpans[k];
    const end = rateSpans[k + 1];
    if (k > 0) {
      pieces.push(',');
      piecesBefore.push(',');
    }
    for (; x < rateIdx.length; x++) {
      const j = rateIdx[x];
      const cut = cuts[j];
      if (cut >= end) break;
      const isRate = rate[j] === 1;
      const v = vals[j];
      const before = valsBefore[j];
      if (v === 0 && before === 0 && !isRate) continue; // the skeleton's own 0 in both (scannedText)
      const piece = skeleton.slice(from, cut);
      const now = isRate || !Number.isFinite(v) ? 'null' : String(v);
      pieces.push(piece, now);
      // A number the same in both (a limit, an idle counter) is printed once (-0 and 0 both print "0").
      piecesBefore.push(piece, isRate || before === v ? now : Number.isFinite(before) ? String(before) : 'null');
      from = cut + 1;
    }
    const piece = skeleton.slice(from, end);
    pieces.push(piece);
    piecesBefore.push(piece);
  }
  pieces.push('}');
  piecesBefore.push('}');
}

/** A scanned template's text parts (as compile() cuts them, the list's part holding listMark) and its list's two sides. */
export function scannedParts(
  skeleton: string,
  t: ScannedTemplate,
  listMark: string,
): { parts: string[]; listCut: [string, string] } {
  const marked = t.listAt < 0 ? skeleton : skeleton.slice(0, t.listAt) + listMark + skeleton.slice(t.listAt + 2);
  // Places after the list move back by the one character the mark is shorter than [].
  const at = (j: number): number => (t.listAt >= 0 && t.cuts[j] > t.listAt ? t.cuts[j] - 1 : t.cuts[j]);
  const parts: string[] = [];
  let from = 0;
  for (let j = 0; j < t.cuts.length; j++) {
    parts.push(marked.slice(from, at(j)));
    from = at(j) + 1;
  }
  parts.push(marked.slice(from));
  const listCut: [string, string] = t.listPart < 0 ? ['', ''] : (parts[t.listPart].split(listMark) as [string, string]);
  return { parts, listCut };
}

/** A scanned template's rate view as text parts around its numbers (what compile() gives as rateParts). */
export function scannedRateParts(skeleton: string, t: ScannedTemplate): string[] {
  const parts: string[] = [];
  const tail = walkRateView(skeleton, t, (before) => parts.push(before));
  parts.push(tail);
  return parts;
}
