// One --filter meaning in every face: found on a real engine, `--filter
// evalbox` (an image name) matched in the dashboard and nothing in
// `tstop snapshot` or the exporter.

import { describe, expect, it } from 'vitest';
import { selection } from '../../src/exporter/run.js';
import { filterRegex, selectContainers } from '../../src/model/select.js';
import { sampleSnapshot, v2Container } from '../../src/model/samples.js';
import { compileFilter } from '../../ui/view/view-state.js';

const box = v2Container({ name: 'runner-7', image: 'evalbox:3.1', containerId: 'ab12cd34ef56' });
const web = v2Container({ id: '/system.slice/docker-99.scope', name: 'web', image: 'nginx:1.27', containerId: '99' });
const all = sampleSnapshot([box, web]).containers;

describe('--filter matches the same fields in the snapshot, the exporter and the dashboard', () => {
  for (const [what, text] of [
    ['image', 'evalbox'],
    ['name, any case', 'RUNNER'],
    ['container id', 'ab12cd'],
    ['cgroup path', '^/system\\.slice/docker-3f1c'],
  ] as const) {
    it(`by ${what}`, () => {
      const snapshot = selectContainers(all, { all: true, filter: filterRegex(text) }).map((c) => c.name);
      const exporter = all.filter(selection({ cgroups: 'all', filter: filterRegex(text) })).map((c) => c.name);
      const dashboard = all.filter(compileFilter(text)!).map((c) => c.name);
      expect(snapshot).toEqual(['runner-7']);
      expect(exporter).toEqual(snapshot);
      expect(dashboard).toEqual(snapshot);
    });
  }
});
