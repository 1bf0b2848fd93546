// `snapshot --json` on a store prints each sample straight from its
// templates' text and numbers (src/record/sample-text.ts). Its output must be
// the object route's byte for byte: the same document, the same cgroups
// selected, in the same order. Recorded here from this host's real cgroups,
// with a busy one and one whose name holds what the sanitizer rewrites.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotJson } from '../../src/cli/snapshot.js';
import { runSnapshotReplay, type SampleOutput } from '../../src/cli/snapshot-replay.js';
import { Collector } from '../../src/collect/collector.js';
import { byCpuThenMemory, filterRegex, selectContainers, type Selection } from '../../src/model/select.js';
import type { Snapshot } from '../../src/model/types.js';
import { StoreReader } from '../../src/record/reader.js';
import { RecordedSample } from '../../src/record/sample-text.js';
import { StoreWriter } from '../../src/record/store.js';
import { sanitizeJson } from '../../src/util/sanitize.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { cpuQuota } from '../helpers/kernel.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A name with a quote, a backslash, a C1 control, a bidi override and a line separator. */
const ODD_NAME = 'odd "name" \\ \u0085 \u202e \u2028 é';

const SELECTIONS: [string, Selection][] = [
  ['--all', { all: true }],
  ['the default selection', {}],
  ['--filter', { filter: filterRegex('tstop|system|user') }],
  ['--all --filter', { all: true, filter: filterRegex('busy|odd') }],
];

describe.runIf(process.getuid?.() === 0)('a recorded sample printed from its text', () => {
  let cg: TestCgroups;
  let dir: string;
  let written: Snapshot[] = [];
  let busyId: string;

  beforeAll(async () => {
    cg = new TestCgroups('sample-text');
    busyId = cg.mkdir('busy');
    // Idle siblings of our own: the selections below must have several cgroups to pick from even on
    // a host that has almost none of its own.
    for (const name of ['idle-a', 'idle-b', 'idle-c']) cg.mkdir(name);
    cpuQuota(cg, 'busy', 0.5);
    await cg.spawn('busy', ['spin']).ready;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-sample-text-'));
    const collector = new Collector({ watch: true });
    // Other runs' benches and tests (thousands of cgroups on a shared host) are left out; this test's are kept.
    const ours = (id: string): boolean => !/^\/tstop-(bench|test)-/.test(id) || id.startsWith(`/${cg.name}`);
    try {
      // Key frames every 3 samples: key frames, deltas decoded in place, and a renamed cgroup (a new template).
      const w = StoreWriter.open(dir, {
        intervalMs: 200,
        retainMs: 600_000,
        maxBytes: 2 ** 30,
        keyframeEvery: 3,
        sync: false,
      });
      for (let i = 0; i < 8; i++) {
        const s = collector.collect();
        s.containers = s.containers.filter((c) => ours(c.id));
        const busy = s.containers.find((c) => c.id === busyId);
        if (busy && i >= 4) busy.name = ODD_NAME;
        w.append(s);
        written.push(s);
        await sleep(200);
      }
      w.close();
    } finally {
      collector.close();
    }
  }, 180_000);

  afterAll(async () => {
    await cg?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is the object route byte for byte, at every sample and for every selection', () => {
    expect(written[0].containers.length).toBeGreaterThan(5);
    expect(written.length).toBe(8);
    const times = written.map((s) => Date.parse(s.timestamp));
    let printedBusy = 0;
    for (const t of times) {
      const objects = StoreReader.open(dir).at(t);
      const recorded = StoreReader.open(dir).atRecorded(t);
      expect(recorded).toBeInstanceOf(RecordedSample);
      const sample = recorded as RecordedSample;
      for (const [what, sel] of SELECTIONS) {
        const shown = selectContainers(objects.containers, sel).sort(byCpuThenMemory);
        const want = snapshotJson(objects, shown);
        const light = selectContainers(sample.selectable(!sel.all || !!sel.filter), sel).sort(byCpuThenMemory);
        expect(
          light.map((c) => c.id),
          `${what} at ${t}`,
        ).toEqual(shown.map((c) => c.id));
        expect(sanitizeJson(sample.json(light)) + '\n', `${what} at ${t}`).toBe(want);
      }
      const busy = objects.containers.find((c) => c.id === busyId);
      if (busy?.cpu?.percent) printedBusy++;
    }
    // The real cgroups were there: the busy one with a CPU rate in the samples after the first.
    expect(printedBusy).toBeGreaterThanOrEqual(5);
    expect(
      StoreReader.open(dir)
        .at(times[6])
        .containers.find((c) => c.id === busyId)?.name,
    ).toBe(ODD_NAME);
  });

  it('prints what the object route prints through `snapshot --at` and `--from/--to [--step]`', async () => {
    const at = (i: number): string => written[i].timestamp;
    const run = async (flags: Record<string, string | boolean | undefined>, text: boolean): Promise<string> => {
      let out = '';
      const output: SampleOutput = {
        selection: { all: flags.all === true },
        header: '',
        render: (s, shown) => snapshotJson(s, shown),
        renderJson: text ? (json) => sanitizeJson(json) + '\n' : undefined,
        write: (chunk) => {
          out += chunk;
          return Promise.resolve();
        },
      };
      await runSnapshotReplay({ store: dir, ...flags }, output);
      return out;
    };
    for (const flags of [
      { at: at(5), all: true },
      { at: at(2) },
      { from: at(0), to: at(7), all: true },
      { from: at(1), to: at(7), step: '400ms' },
    ]) {
      const want = await run(flags, false);
      expect(want.length).toBeGreaterThan(1000);
      expect(await run(flags, true), JSON.stringify(flags)).toBe(want);
    }
  });
});
