// One container's recorded history: the samples of a window, and the
// container in each, found the way `tstop limit` finds one (src/limiter/
// resolve.ts): a cgroup path, an exact runtime id, an exact name, then a
// unique id prefix, judged over every cgroup recorded in the window. A name
// follows the container across a recreation (a new id or cgroup path under
// the same name); two matches in one sample are ambiguous.

import type { ContainerSnapshot } from '../model/types.js';
import { parseRef } from '../limiter/resolve.js';
import { usageSampleOf, type UsageSample } from '../limiter/whatif.js';
import { printable } from '../util/format.js';
import { formatTimeIso } from '../util/time.js';
import { StoreError, type StoreRange, type StoreReader } from './reader.js';

export interface RecordedIdentity {
  /** The cgroup path. */
  id: string;
  name: string;
  containerId: string | null;
}

export interface ContainerHistory {
  samples: UsageSample[];
  /** Every cgroup the reference matched in the window, oldest first. */
  identities: RecordedIdentity[];
  range: StoreRange;
}

type MatchKind = 'path' | 'id' | 'name' | 'prefix';
const PRECEDENCE: MatchKind[] = ['path', 'id', 'name', 'prefix'];

interface Match {
  kind: MatchKind;
  sample: UsageSample;
  identity: RecordedIdentity;
}

function matchKinds(ref: ReturnType<typeof parseRef>, c: ContainerSnapshot): MatchKind[] {
  if (ref.kind === 'path') return c.id === ref.id ? ['path'] : [];
  const kinds: MatchKind[] = [];
  if (c.containerId === ref.text) kinds.push('id');
  if (c.name === ref.text) kinds.push('name');
  if (/^[0-9a-f]+$/.test(ref.text) && c.containerId?.startsWith(ref.text)) kinds.push('prefix');
  return kinds;
}

function describe(i: RecordedIdentity): string {
  return i.name === i.id ? i.id : `${printable(i.name)} (${i.id})`;
}

/**
 * The samples of the container `ref` names, with fromMs <= time <= toMs.
 * StoreError (exit 1) when the window is outside the store (naming the range
 * held) or the container is not in it; LimitError (exit 2) for a malformed
 * or ambiguous reference.
 */
export function readContainerHistory(reader: StoreReader, ref: string, fromMs: number, toMs: number): ContainerHistory {
  const parsed = parseRef(ref);
  const range = reader.range();
  if (!range || range.lastMs < fromMs || range.firstMs > toMs)
    throw new StoreError(
      `no sample between ${formatTimeIso(fromMs)} and ${formatTimeIso(toMs)}: ${reader.describeRange(range)}`,
    );
  const perSample: Match[][] = [];
  const candidate = (c: ContainerSnapshot): boolean => matchKinds(parsed, c).length > 0;
  for (const sample of reader.containersBetween(fromMs, toMs, candidate)) {
    const matches: Match[] = [];
    for (const c of sample.containers) {
      for (const kind of matchKinds(parsed, c))
        matches.push({
          kind,
          sample: usageSampleOf(sample.timestampMs, sample.monotonicSeconds, c),
          identity: { id: c.id, name: c.name, containerId: c.containerId },
        });
    }
    if (matches.length > 0) perSample.push(matches);
  }
  const kind = PRECEDENCE.find((k) => perSample.some((ms) => ms.some((m) => m.kind === k)));
  if (!kind)
    throw new StoreError(
      `no container ${parsed.kind === 'path' ? parsed.id : `named '${printable(ref)}' or with that id or id prefix`} was recorded between ${formatTimeIso(fromMs)} and ${formatTimeIso(toMs)} (${reader.describeRange(range)})`,
    );
  const identities = new Map<string, RecordedIdentity>();
  const samples: UsageSample[] = [];
  for (const ms of perSample) {
    const chosen = ms.filter((m) => m.kind === kind);
    for (const m of chosen)
      identities.set(`${m.identity.id}\0${m.identity.name}\0${m.identity.containerId}`, m.identity);
    if (chosen.length > 1)
      throw ambiguous(
        ref,
        chosen.map((m) => m.identity),
        'in one sample',
      );
    if (chosen.length === 1) samples.push(chosen[0].sample);
  }
  // A prefix names one container: two runtime ids under it are two containers, even at different times.
  if (kind === 'prefix') {
    const ids = [...new Set([...identities.values()].map((i) => i.containerId))];
    if (ids.length > 1) throw ambiguous(ref, [...identities.values()], 'over the window');
  }
  return { samples, identities: [...identities.values()], range };
}

function ambiguous(ref: string, matches: RecordedIdentity[], where: string): StoreError {
  const shown = matches.slice(0, 10).map(describe);
  const more = matches.length > 10 ? `, and ${matches.length - 10} more` : '';
  return new StoreError(
    `container reference '${printable(ref)}' is ambiguous: it matches ${matches.length} recorded cgroups ${where}: ${shown.join(', ')}${more}; give more of the id or the cgroup path`,
    2,
  );
}
