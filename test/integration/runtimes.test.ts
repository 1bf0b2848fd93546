// Containers of every runtime recognised from their cgroup paths, with real
// processes in real cgroups shaped like each runtime's (under the test's own
// parent), and a docker one named from its config.v2.json on disk.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';
import type { Snapshot } from '../../src/model/types.js';
import { TestCgroups } from '../helpers/cgroups.js';

const hex = (c: string): string => c.repeat(64);
const POD_UID = '5f1a3c2e-8b4d-4e6f-9a7b-0c1d2e3f4a5b';

const SHAPES: { rel: string; runtime: string; containerId: string; name?: string }[] = [
  { rel: `docker/${hex('a')}`, runtime: 'docker', containerId: hex('a'), name: 'aaaaaaaaaaaa' },
  { rel: `system.slice/docker-${hex('b')}.scope`, runtime: 'docker', containerId: hex('b'), name: 'web' },
  { rel: `machine.slice/libpod-${hex('c')}.scope`, runtime: 'podman', containerId: hex('c') },
  {
    rel: `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replace(/-/g, '_')}.slice/cri-containerd-${hex('d')}.scope`,
    runtime: 'containerd',
    containerId: hex('d'),
  },
  { rel: `kubepods/besteffort/pod${POD_UID}/crio-${hex('e')}.scope`, runtime: 'crio', containerId: hex('e') },
  { rel: 'lxc.payload.web1', runtime: 'lxc', containerId: 'web1', name: 'web1' },
];

describe.runIf(process.getuid?.() === 0)('runtime recognition on real cgroups', () => {
  let cg: TestCgroups;
  let snapshot: Snapshot;

  beforeAll(async () => {
    cg = new TestCgroups('rt');
    const dockerRoot = cg.tmp('docker');
    const container = path.join(dockerRoot, 'containers', hex('b'));
    fs.mkdirSync(container, { recursive: true });
    fs.writeFileSync(
      path.join(container, 'config.v2.json'),
      JSON.stringify({
        ID: hex('b'),
        Name: '/web',
        Created: '2026-11-29T08:00:00.000000000Z',
        Image: 'sha256:' + hex('f'),
        Config: { Image: 'nginx:1.27', Labels: { 'com.example.team': 'web' } },
        State: { Running: true, Pid: 0 },
      }),
    );
    for (const s of SHAPES) {
      cg.mkdir(s.rel);
      await cg.spawn(s.rel, ['sleep']).ready;
    }
    const collector = new Collector({ dockerRoot, runcRoots: [], podmanRoot: cg.tmp('none'), crioRoots: [] });
    snapshot = collector.collect();
    collector.close();
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  for (const s of SHAPES) {
    it(`recognises ${s.runtime} at ${s.rel.split('/').pop()}`, () => {
      const c = snapshot.containers.find((x) => x.id === cg.id(s.rel));
      expect(c).toBeDefined();
      expect(c!.runtime).toBe(s.runtime);
      expect(c!.containerId).toBe(s.containerId);
      expect(c!.processes).toHaveLength(1);
      if (s.name) expect(c!.name).toBe(s.name);
    });
  }

  it('takes a docker container name and image from config.v2.json', () => {
    const c = snapshot.containers.find((x) => x.id === cg.id(SHAPES[1].rel))!;
    expect(c.name).toBe('web');
    expect(c.image).toBe('nginx:1.27');
  });

  it('knows the pod of a Kubernetes container from its path', () => {
    const c = snapshot.containers.find((x) => x.id === cg.id(SHAPES[3].rel))!;
    expect(c.kubernetes?.podUid).toBe(POD_UID);
  });
});
