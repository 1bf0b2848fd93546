// A recorded sample as `snapshot --json` prints it, straight from its
// templates' text and its decoded numbers: no Snapshot object is built, so
// a thousand cgroups' JSON (~2 MB) is not parsed only to be printed again.
// Selection and order stay the live ones: model/select.ts runs on one small
// object per cgroup holding what it reads (the members its filter and
// default selection read, the two numbers it sorts by; templates.ts'
// SELECT_WANTED, found by the template scan). A template's text is canonical
// JSON (skeletonOf writes it with JSON.stringify, numbers as String writes
// them), so the document is byte for byte what JSON.stringify writes of the
// parsed Snapshot; test/unit/record-sample-text.test.ts compares the two on
// a store of the host's real cgroups.

import type { ContainerSnapshot } from '../model/types.js';
import { textInto, type ColumnState, type Entity } from './columns.js';
import type { Template } from './templates.js';

/** A template's members read whole (SELECT_WANTED.keys), parsed once per template. */
const wholeMembers = new WeakMap<Template, Record<string, unknown>>();

function numberAt(e: Entity, leaf: number): number | null {
  if (leaf < 0) return null;
  const v = e.vals[leaf];
  return Number.isFinite(v) ? v : null; // as the text has it: a non-finite number is null
}

export class RecordedSample {
  readonly timestamp: string;
  readonly monotonicSeconds: number;
  readonly notes: readonly string[];
  /** The entity behind each object selectable() gave. */
  private readonly entityOf = new Map<object, Entity>();

  /**
   * Reads `state` as it is (its rates filled: columns.ts' fillRates): valid
   * until the segment decodes another sample onto it. Use of() to make one.
   */
  private constructor(
    state: ColumnState,
    private readonly entities: readonly Entity[],
  ) {
    this.timestamp = state.timestamp;
    this.monotonicSeconds = state.monotonicSeconds;
    this.notes = state.notes;
  }

  /** The sample of a decoded state, or null when a cgroup's template was not scanned with SELECT_WANTED. */
  static of(state: ColumnState): RecordedSample | null {
    const entities = state.entities;
    for (let i = 1; i < entities.length; i++) if (!entities[i].t.select) return null;
    return new RecordedSample(state, entities);
  }

  /**
   * One object per cgroup, in the sample's order, with what selectContainers
   * and byCpuThenMemory read: the id, cpu.percent, memory.workingSetBytes
   * and, when `whole` (a filter, or the default selection), the members
   * read whole. Give the ones to show to json().
   */
  selectable(whole: boolean): ContainerSnapshot[] {
    if (whole) this.parseWholeMembers();
    const out: ContainerSnapshot[] = [];
    this.entityOf.clear();
    for (let i = 1; i < this.entities.length; i++) {
      const e = this.entities[i];
      const leaves = e.t.select!.leaves;
      const light = {
        ...(whole ? wholeMembers.get(e.t) : undefined),
        id: e.id,
        cpu: { percent: numberAt(e, leaves[0]) },
        memory: { workingSetBytes: numberAt(e, leaves[1]) },
      } as unknown as ContainerSnapshot;
      this.entityOf.set(light, e);
      out.push(light);
    }
    return out;
  }

  /** The members read whole of every template not yet parsed: one JSON.parse for all of them. */
  private parseWholeMembers(): void {
    const todo = new Set<Template>();
    const texts: string[] = [];
    for (let i = 1; i < this.entities.length; i++) {
      const t = this.entities[i].t;
      if (wholeMembers.has(t) || todo.has(t)) continue;
      const spans = t.select!.spans;
      let text = '{';
      for (let x = 0; x < spans.length; x += 2) text += (x ? ',' : '') + t.skeleton.slice(spans[x], spans[x + 1]);
      todo.add(t);
      texts.push(`${text}}`);
    }
    if (todo.size === 0) return;
    const parsed = JSON.parse(`[${texts.join(',')}]`) as Record<string, unknown>[];
    let k = 0;
    for (const t of todo) wholeMembers.set(t, parsed[k++]);
  }

  /**
   * The sample with only `shown` (objects from selectable(), in the order to
   * print) as JSON text: what JSON.stringify writes of the Snapshot with
   * those containers.
   */
  json(shown: readonly ContainerSnapshot[]): string {
    // One list of pieces for the whole document, joined once (not a string per cgroup, then all of them).
    const pieces = [
      `{"timestamp":${JSON.stringify(this.timestamp)},"monotonicSeconds":${JSON.stringify(this.monotonicSeconds)},"host":`,
    ];
    textInto(this.entities[0], pieces);
    pieces.push(',"containers":[');
    for (let i = 0; i < shown.length; i++) {
      const e = this.entityOf.get(shown[i]);
      if (!e) throw new Error('json() takes the objects selectable() gave');
      if (i > 0) pieces.push(',');
      textInto(e, pieces);
    }
    pieces.push(`],"notes":${JSON.stringify(this.notes)}}`);
    return pieces.join('');
  }
}
