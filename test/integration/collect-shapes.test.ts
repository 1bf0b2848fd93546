// The objects the collection keeps per cgroup and reads every tick share one
// hidden class (V8), so the tick's reads of their fields stay monomorphic. A
// memo built from spreads got a class of its own per cgroup past the first
// few, which made every read of a memo's field in the tick a megamorphic
// lookup (~10 ms a tick at 1,000 cgroups). Checked in a child node with
// --allow-natives-syntax, on the built collector (dist/), over real test cgroups.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCgroups } from '../helpers/cgroups.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** In the child: how many hidden classes the memos, containers and their cpu and memory objects have. */
const CLASSES =
  'const classes = (objects) => { const seen = [];' +
  '  for (const o of objects) if (o != null && !seen.some((x) => %HaveSameMap(x, o))) seen.push(o);' +
  '  return seen.length; };';

describe('per-cgroup objects of the collection', () => {
  let cg: TestCgroups;

  beforeAll(async () => {
    cg = new TestCgroups('shapes');
    // Past a handful of cgroups: the first few memos built from spreads did share a class.
    for (const n of ['a', 'c', 'c/d', ...Array.from({ length: 16 }, (_, i) => `s${i}`)]) {
      cg.mkdir(n, { inner: n === 'c' });
    }
    await cg.spawn('a', ['sleep']).ready;
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  it('share one hidden class: memos, containers and their cpu and memory', () => {
    const collector = path.join(repo, 'dist/src/collect/collector.js');
    if (!fs.existsSync(collector)) throw new Error('run `npm run build` first');
    const script =
      `const { Collector } = await import(${JSON.stringify(collector)});` +
      `const c = new Collector({ watch: true, root: ${JSON.stringify(cg.isolatedRoot())}, reuseContainers: true });` +
      'for (let i = 0; i < 3; i++) c.collect();' +
      'const s = c.collect();' +
      CLASSES +
      'const memos = [...c.tree.nodes.values()].map((n) => n.memo);' +
      'process.stdout.write(JSON.stringify({ cgroups: memos.length, memos: classes(memos),' +
      '  containers: classes(s.containers), cpu: classes(s.containers.map((x) => x.cpu)),' +
      '  memory: classes(s.containers.map((x) => x.memory)) }));' +
      'c.close(); process.exit(0);';
    const out = JSON.parse(
      execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      }),
    ) as Record<string, number>;
    expect(out.cgroups).toBeGreaterThanOrEqual(19);
    expect(out).toEqual({ cgroups: out.cgroups, memos: 1, containers: 1, cpu: 1, memory: 1 });
  });
});
