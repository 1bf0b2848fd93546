// One container's history from a store: found by cgroup path, runtime id,
// name or id prefix as `tstop limit` finds one; a name followed across a
// recreation; ambiguity, absence and a window outside the store as errors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { whatIf } from '../../src/limiter/whatif.js';
import { sampleContainer, sampleSnapshot } from '../../src/model/samples.js';
import type { ContainerSnapshot } from '../../src/model/types.js';
import { readContainerHistory } from '../../src/record/history.js';
import { StoreError, StoreReader } from '../../src/record/reader.js';
import { StoreWriter } from '../../src/record/store.js';

const MiB = 1024 * 1024;
const T0 = 1_767_000_000_000;
const OLD_ID = 'aaa1'.padEnd(64, '0');
const NEW_ID = 'aab2'.padEnd(64, '0');
let dir: string;

function container(id: string, name: string, containerId: string, inode: number, tick: number): ContainerSnapshot {
  const c = sampleContainer({ id: `/docker/${id}`, name, memBytes: (50 + tick) * MiB, inode });
  c.containerId = containerId;
  c.cpu!.usageSeconds = 100 + tick * 0.5; // half a core
  c.memory!.usageBytes = (50 + tick) * MiB;
  c.memory!.workingSetBytes = (45 + tick) * MiB;
  return c;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-history-'));
  const w = StoreWriter.open(dir, { intervalMs: 1000, retainMs: 7 * 86_400_000, maxBytes: 2 ** 31, sync: false });
  for (let tick = 0; tick < 10; tick++) {
    // "web" is recreated at tick 5: a new runtime id, cgroup and inode under the same name.
    const web = tick < 5 ? container(OLD_ID, 'web', OLD_ID, 11, tick) : container(NEW_ID, 'web', NEW_ID, 12, tick);
    // A cgroup discovery names only from tick 3 on (a delta against a key frame that has the old name).
    const late = container('l1', tick < 3 ? 'l1' : 'late', 'l1', 31, tick);
    const dups = tick === 7 ? [container('d1', 'dup', 'd1', 21, tick), container('d2', 'dup', 'd2', 22, tick)] : [];
    w.append(
      sampleSnapshot([web, late, ...dups], {
        timestamp: new Date(T0 + tick * 1000).toISOString(),
        monotonicSeconds: 500 + tick,
      }),
    );
  }
  w.close();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const history = (ref: string, fromMs = T0, toMs = T0 + 60_000) =>
  readContainerHistory(StoreReader.open(dir), ref, fromMs, toMs);

describe('a container history from the store', () => {
  it('a name follows the container across a recreation; no CPU interval crosses it', () => {
    const h = history('web');
    expect(h.samples.map((s) => s.timeMs)).toEqual([...Array(10).keys()].map((i) => T0 + i * 1000));
    expect(h.identities.map((i) => i.id)).toEqual([`/docker/${OLD_ID}`, `/docker/${NEW_ID}`]);
    expect(h.samples[9].memoryUsageBytes).toBe(59 * MiB);
    expect(h.samples[9].workingSetBytes).toBe(54 * MiB);
    const r = whatIf(h.samples, { cpuCores: 0.25, memoryBytes: 55 * MiB });
    expect(r.cpu!.intervals).toBe(8);
    expect(r.cpu!.skippedIntervals).toBe(1);
    expect(r.cpu!.overQuotaShare).toBeCloseTo(1, 9);
    expect(h.range).toMatchObject({ firstMs: T0, lastMs: T0 + 9000, intervalMs: 1000 });
  });

  it('a cgroup path, an exact id and a unique prefix each give that cgroup only', () => {
    expect(history(`/docker/${NEW_ID}`).samples).toHaveLength(5);
    expect(history(OLD_ID).samples.map((s) => s.timeMs)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * 1000));
    expect(history('aab').samples).toHaveLength(5);
  });

  it('a name a delta gives (not in the key frame) is matched from that sample on', () => {
    expect(history('late').samples.map((s) => s.timeMs)).toEqual([3, 4, 5, 6, 7, 8, 9].map((i) => T0 + i * 1000));
  });

  it('only the window asked for', () => {
    expect(history('web', T0 + 2000, T0 + 4000).samples).toHaveLength(3);
  });

  it('ambiguous: a prefix of two runtime ids, or two cgroups of one name in one sample (exit 2)', () => {
    expect(() => history('aa')).toThrow(
      /'aa' is ambiguous: it matches 2 recorded cgroups over the window: web \(\/docker\/aaa1/,
    );
    expect(() => history('dup')).toThrow(
      /'dup' is ambiguous: it matches 2 recorded cgroups in one sample: dup \(\/docker\/d1\), dup \(\/docker\/d2\)/,
    );
    try {
      history('dup');
    } catch (err) {
      expect((err as StoreError).exitCode).toBe(2);
    }
  });

  it('never recorded, or a window outside the store: exit 1 with the range held', () => {
    expect(() => history('nope')).toThrow(
      /no container named 'nope' or with that id or id prefix was recorded between \S+Z and \S+Z \(the store .* holds 2025-12-29T09:20:00Z to 2025-12-29T09:20:09Z\)/,
    );
    expect(() => history('web', T0 + 3_600_000, T0 + 7_200_000)).toThrow(
      /no sample between 2025-12-29T10:20:00Z and 2025-12-29T11:20:00Z: the store .* holds 2025-12-29T09:20:00Z to 2025-12-29T09:20:09Z/,
    );
    expect(() => history('../x')).toThrow(/cannot contain '\/'/);
  });
});
