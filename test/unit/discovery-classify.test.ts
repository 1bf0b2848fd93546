import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  classifyCgroupPath,
  cgroupPathComponents,
  normalizeCgroupPath,
  unescapeSystemdName,
  type Classification,
} from '../../src/discovery/classify.js';

// Real-looking 64-hex ids.
const ID = '89de610395df15fb62d954cd0cf6dbf068e8cfd0c993e03307e613b7e425a047';
const ID2 = '6406631453bfeb5ed767a405a3158aa49259ccbe0eb6773bb15b397983b7b7a6';
const POD_UID = '8c4b5a1e-3f2d-4e6a-9b7c-1d2e3f4a5b6c';
const POD_UID_SD = POD_UID.replace(/-/g, '_');

type Expect = Partial<Classification>;

const cases: Array<[string, string, Expect]> = [
  // ---- root and plain cgroups
  ['root', '/', { runtime: 'cgroup', kind: 'other', isContainer: false, name: '/' }],
  ['empty string is the root', '', { runtime: 'cgroup', name: '/' }],
  ['plain cgroup', '/mygroup', { runtime: 'cgroup', kind: 'other', name: '/mygroup', containerId: null }],
  ['plain nested cgroup', '/batch/job-17', { runtime: 'cgroup', name: '/batch/job-17' }],

  // ---- docker, cgroupfs driver (v1 per-controller paths and v2 alike)
  [
    'docker cgroupfs',
    `/docker/${ID}`,
    {
      runtime: 'docker',
      kind: 'container',
      isContainer: true,
      containerId: ID,
      name: ID.slice(0, 12),
      kubernetes: null,
    },
  ],
  [
    'docker cgroupfs trailing slash tolerated',
    `/docker/${ID}/`,
    { runtime: 'docker', containerId: ID, isContainer: true },
  ],
  [
    'docker cgroupfs doubled slash tolerated',
    `//docker//${ID}`,
    { runtime: 'docker', containerId: ID, isContainer: true },
  ],
  ['docker parent itself', '/docker', { runtime: 'docker', kind: 'slice', isContainer: false, containerId: null }],
  [
    'docker systemd in the container (init.scope)',
    `/docker/${ID}/init.scope`,
    { runtime: 'docker', kind: 'nested', isContainer: false, containerId: ID, name: 'init.scope' },
  ],
  [
    'docker deeper nesting',
    `/docker/${ID}/system.slice/cron.service`,
    { runtime: 'docker', kind: 'nested', containerId: ID, name: 'system.slice/cron.service' },
  ],
  [
    'docker-in-docker cgroupfs: inner container',
    `/docker/${ID}/docker/${ID2}`,
    { runtime: 'docker', kind: 'container', isContainer: true, containerId: ID2 },
  ],
  [
    'docker-in-docker: inner /docker group is nested in outer',
    `/docker/${ID}/docker`,
    { runtime: 'docker', kind: 'nested', containerId: ID, name: 'docker' },
  ],
  [
    'docker non-container group (buildkit)',
    '/docker/buildkit',
    { runtime: 'cgroup', kind: 'other', isContainer: false, name: '/docker/buildkit' },
  ],
  ['63 hex is not an id', `/docker/${ID.slice(1)}`, { runtime: 'cgroup', isContainer: false, containerId: null }],
  ['65 hex is not an id', `/docker/${ID}a`, { runtime: 'cgroup', isContainer: false, containerId: null }],
  [
    'uppercase hex is not an id',
    `/docker/${ID.toUpperCase()}`,
    { runtime: 'cgroup', isContainer: false, containerId: null },
  ],
  ['non-hex letter in id', `/docker/${ID.slice(0, 63)}g`, { runtime: 'cgroup', isContainer: false }],

  // ---- docker, systemd driver
  [
    'docker systemd',
    `/system.slice/docker-${ID}.scope`,
    { runtime: 'docker', kind: 'container', isContainer: true, containerId: ID, name: ID.slice(0, 12) },
  ],
  [
    'docker systemd 63 hex',
    `/system.slice/docker-${ID.slice(1)}.scope`,
    { runtime: 'systemd', kind: 'unit', isContainer: false, containerId: null },
  ],
  [
    'docker systemd uppercase',
    `/system.slice/docker-${ID.toUpperCase()}.scope`,
    { runtime: 'systemd', isContainer: false },
  ],
  [
    'docker systemd with --cgroup-parent',
    `/mycompany.slice/docker-${ID}.scope`,
    { runtime: 'docker', containerId: ID, isContainer: true },
  ],
  [
    'rootless docker',
    `/user.slice/user-1000.slice/user@1000.service/user.slice/docker-${ID}.scope`,
    { runtime: 'docker', containerId: ID, isContainer: true },
  ],
  [
    'docker.service is a unit, not a container',
    '/system.slice/docker.service',
    { runtime: 'systemd', kind: 'unit', name: 'docker.service', isContainer: false },
  ],
  ['docker socket unit', '/system.slice/docker.socket', { runtime: 'systemd', kind: 'unit', name: 'docker.socket' }],
  [
    'docker scope with .mount child is nested',
    `/system.slice/docker-${ID}.scope/run-foo.mount`,
    { runtime: 'docker', kind: 'nested', containerId: ID },
  ],

  // ---- podman
  [
    'podman systemd (machine.slice)',
    `/machine.slice/libpod-${ID}.scope`,
    { runtime: 'podman', kind: 'container', isContainer: true, containerId: ID },
  ],
  [
    'podman rootless user slice',
    `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope`,
    { runtime: 'podman', isContainer: true, containerId: ID },
  ],
  [
    'podman crun "container" sub-cgroup is nested',
    `/machine.slice/libpod-${ID}.scope/container`,
    { runtime: 'podman', kind: 'nested', isContainer: false, containerId: ID, name: 'container' },
  ],
  [
    'podman conmon scope is a monitor',
    `/machine.slice/libpod-conmon-${ID}.scope`,
    { runtime: 'podman', kind: 'monitor', isContainer: false, containerId: ID, name: 'conmon' },
  ],
  [
    'podman cgroupfs',
    `/libpod_parent/libpod-${ID}`,
    { runtime: 'podman', kind: 'container', isContainer: true, containerId: ID },
  ],
  ['podman cgroupfs parent', '/libpod_parent', { runtime: 'podman', kind: 'slice', isContainer: false }],
  [
    'podman cgroupfs conmon',
    '/libpod_parent/conmon',
    { runtime: 'podman', kind: 'monitor', isContainer: false, containerId: null },
  ],
  [
    'podman cgroupfs conmon per container',
    `/libpod_parent/libpod-conmon-${ID}`,
    { runtime: 'podman', kind: 'monitor', containerId: ID },
  ],
  [
    'podman pod slice',
    `/machine.slice/machine-libpod_pod_${ID2}.slice`,
    { runtime: 'podman', kind: 'pod', isContainer: false, containerId: null },
  ],
  [
    'podman container in a pod',
    `/machine.slice/machine-libpod_pod_${ID2}.slice/libpod-${ID}.scope`,
    { runtime: 'podman', isContainer: true, containerId: ID, kubernetes: null },
  ],
  [
    'podman quadlet --cgroups=split payload',
    `/system.slice/web.service/libpod-payload-${ID}`,
    { runtime: 'podman', kind: 'container', isContainer: true, containerId: ID },
  ],
  [
    'podman quadlet service itself',
    '/system.slice/web.service',
    { runtime: 'systemd', kind: 'unit', name: 'web.service' },
  ],
  [
    'podman quadlet runtime sibling is just a cgroup',
    '/system.slice/web.service/runtime',
    { runtime: 'cgroup', kind: 'other', name: '/system.slice/web.service/runtime' },
  ],

  // ---- Kubernetes, systemd driver
  [
    'kubepods.slice',
    '/kubepods.slice',
    { runtime: 'kubernetes', kind: 'slice', isContainer: false, kubernetes: { podUid: null, qosClass: null } },
  ],
  [
    'burstable slice',
    '/kubepods.slice/kubepods-burstable.slice',
    { runtime: 'kubernetes', kind: 'slice', kubernetes: { podUid: null, qosClass: 'Burstable' } },
  ],
  [
    'besteffort slice',
    '/kubepods.slice/kubepods-besteffort.slice',
    { runtime: 'kubernetes', kubernetes: { podUid: null, qosClass: 'BestEffort' } },
  ],
  [
    'burstable pod slice',
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID_SD}.slice`,
    {
      runtime: 'kubernetes',
      kind: 'pod',
      isContainer: false,
      containerId: null,
      kubernetes: { podUid: POD_UID, qosClass: 'Burstable' },
    },
  ],
  [
    'guaranteed pod slice',
    `/kubepods.slice/kubepods-pod${POD_UID_SD}.slice`,
    { runtime: 'kubernetes', kind: 'pod', kubernetes: { podUid: POD_UID, qosClass: 'Guaranteed' } },
  ],
  [
    'containerd container (systemd)',
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID_SD}.slice/cri-containerd-${ID}.scope`,
    {
      runtime: 'containerd',
      kind: 'container',
      isContainer: true,
      containerId: ID,
      kubernetes: { podUid: POD_UID, qosClass: 'Burstable' },
    },
  ],
  [
    'containerd guaranteed container (systemd)',
    `/kubepods.slice/kubepods-pod${POD_UID_SD}.slice/cri-containerd-${ID}.scope`,
    { runtime: 'containerd', containerId: ID, kubernetes: { podUid: POD_UID, qosClass: 'Guaranteed' } },
  ],
  [
    'crio container (systemd)',
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID_SD}.slice/crio-${ID}.scope`,
    { runtime: 'crio', isContainer: true, containerId: ID, kubernetes: { podUid: POD_UID, qosClass: 'BestEffort' } },
  ],
  [
    'crio conmon (systemd)',
    `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_UID_SD}.slice/crio-conmon-${ID}.scope`,
    {
      runtime: 'crio',
      kind: 'monitor',
      isContainer: false,
      containerId: ID,
      kubernetes: { podUid: POD_UID, qosClass: 'BestEffort' },
    },
  ],
  [
    'cri-dockerd container (systemd) tells docker',
    `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID_SD}.slice/docker-${ID}.scope`,
    { runtime: 'docker', isContainer: true, containerId: ID, kubernetes: { podUid: POD_UID, qosClass: 'Burstable' } },
  ],
  [
    'kind node: pod inside a docker container (kubelet.slice root)',
    `/system.slice/docker-${ID2}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod${POD_UID_SD}.slice/cri-containerd-${ID}.scope`,
    {
      runtime: 'containerd',
      isContainer: true,
      containerId: ID,
      kubernetes: { podUid: POD_UID, qosClass: 'Burstable' },
    },
  ],
  [
    'kind node: kubelet.slice is nested in the node container',
    `/system.slice/docker-${ID2}.scope/kubelet.slice`,
    { runtime: 'docker', kind: 'nested', containerId: ID2, name: 'kubelet.slice' },
  ],
  [
    'kind node: inner pod slice is a pod',
    `/system.slice/docker-${ID2}.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod${POD_UID_SD}.slice`,
    { runtime: 'kubernetes', kind: 'pod', kubernetes: { podUid: POD_UID, qosClass: 'Guaranteed' } },
  ],

  // ---- Kubernetes, cgroupfs driver
  [
    'kubepods (cgroupfs)',
    '/kubepods',
    { runtime: 'kubernetes', kind: 'slice', kubernetes: { podUid: null, qosClass: null } },
  ],
  [
    'burstable (cgroupfs)',
    '/kubepods/burstable',
    { runtime: 'kubernetes', kind: 'slice', kubernetes: { podUid: null, qosClass: 'Burstable' } },
  ],
  ['burstable outside kubepods is a plain cgroup', '/burstable', { runtime: 'cgroup', kubernetes: null }],
  [
    'pod (cgroupfs)',
    `/kubepods/burstable/pod${POD_UID}`,
    { runtime: 'kubernetes', kind: 'pod', kubernetes: { podUid: POD_UID, qosClass: 'Burstable' } },
  ],
  [
    'guaranteed pod (cgroupfs)',
    `/kubepods/pod${POD_UID}`,
    { runtime: 'kubernetes', kind: 'pod', kubernetes: { podUid: POD_UID, qosClass: 'Guaranteed' } },
  ],
  [
    'bare id under a pod: runtime unknown → kubernetes',
    `/kubepods/besteffort/pod${POD_UID}/${ID}`,
    {
      runtime: 'kubernetes',
      kind: 'container',
      isContainer: true,
      containerId: ID,
      kubernetes: { podUid: POD_UID, qosClass: 'BestEffort' },
    },
  ],
  [
    'guaranteed bare id (cgroupfs)',
    `/kubepods/pod${POD_UID}/${ID}`,
    { runtime: 'kubernetes', containerId: ID, kubernetes: { podUid: POD_UID, qosClass: 'Guaranteed' } },
  ],
  [
    'crio cgroupfs',
    `/kubepods/burstable/pod${POD_UID}/crio-${ID}`,
    { runtime: 'crio', isContainer: true, containerId: ID, kubernetes: { podUid: POD_UID, qosClass: 'Burstable' } },
  ],
  [
    'crio cgroupfs conmon',
    `/kubepods/burstable/pod${POD_UID}/crio-conmon-${ID}`,
    { runtime: 'crio', kind: 'monitor', containerId: ID },
  ],
  [
    'static pod uid (hash, no dashes)',
    '/kubepods/burstable/pod6b3f0e3c7c1c4f9e8d1a2b3c4d5e6f70',
    {
      runtime: 'kubernetes',
      kind: 'pod',
      kubernetes: { podUid: '6b3f0e3c7c1c4f9e8d1a2b3c4d5e6f70', qosClass: 'Burstable' },
    },
  ],
  [
    'k3s under a kubelet-created root',
    `/k3s/kubepods/burstable/pod${POD_UID}/${ID}`,
    { runtime: 'kubernetes', containerId: ID, kubernetes: { podUid: POD_UID, qosClass: 'Burstable' } },
  ],
  [
    'a cgroup below a kube container is nested',
    `/kubepods/burstable/pod${POD_UID}/${ID}/sub`,
    {
      runtime: 'kubernetes',
      kind: 'nested',
      containerId: ID,
      name: 'sub',
      kubernetes: { podUid: POD_UID, qosClass: 'Burstable' },
    },
  ],
  [
    "dind inside a pod: inner docker container is not the pod's",
    `/kubepods/burstable/pod${POD_UID}/${ID}/docker/${ID2}`,
    { runtime: 'docker', isContainer: true, containerId: ID2, kubernetes: null },
  ],
  ['"pods" directory is not a pod', '/kubepods/podsomething', { runtime: 'cgroup', kind: 'other' }],

  // ---- containerd outside Kubernetes
  [
    'nerdctl systemd',
    `/system.slice/nerdctl-${ID}.scope`,
    { runtime: 'containerd', isContainer: true, containerId: ID },
  ],
  [
    'cri-containerd scope outside kubepods',
    `/system.slice/cri-containerd-${ID}.scope`,
    { runtime: 'containerd', isContainer: true, containerId: ID, kubernetes: null },
  ],
  [
    'containerd.service is a unit',
    '/system.slice/containerd.service',
    { runtime: 'systemd', kind: 'unit', name: 'containerd.service' },
  ],

  // ---- runc / unknown OCI engine
  [
    'bare id under an unknown parent',
    `/ecs/3f1c2d4e5b6a7980/${ID}`,
    { runtime: 'runc', kind: 'container', isContainer: true, containerId: ID },
  ],
  ['bare id at the top', `/${ID}`, { runtime: 'runc', isContainer: true, containerId: ID }],
  [
    'runc systemd default scope',
    '/system.slice/runc-mybox.scope',
    { runtime: 'runc', isContainer: true, containerId: 'mybox' },
  ],
  [
    'unknown-prefix id scope',
    `/system.slice/acme-${ID}.scope`,
    { runtime: 'runc', isContainer: true, containerId: ID },
  ],

  // ---- LXC
  [
    'lxc 4+ payload',
    '/lxc.payload.web1',
    { runtime: 'lxc', kind: 'container', isContainer: true, containerId: 'web1', name: 'web1' },
  ],
  [
    'lxc payload name with dots',
    '/lxc.payload.my.box.v2',
    { runtime: 'lxc', isContainer: true, name: 'my.box.v2', containerId: 'my.box.v2' },
  ],
  [
    'lxc payload inner systemd is nested',
    '/lxc.payload.web1/init.scope',
    { runtime: 'lxc', kind: 'nested', containerId: 'web1', name: 'init.scope' },
  ],
  [
    'lxc monitor',
    '/lxc.monitor.web1',
    { runtime: 'lxc', kind: 'monitor', isContainer: false, containerId: 'web1', name: 'web1' },
  ],
  ['lxc pivot', '/lxc.pivot', { runtime: 'lxc', kind: 'slice', isContainer: false }],
  ['lxc legacy /lxc/<name>', '/lxc/web1', { runtime: 'lxc', kind: 'container', isContainer: true, name: 'web1' }],
  ['lxc legacy name with dots', '/lxc/db.internal', { runtime: 'lxc', isContainer: true, name: 'db.internal' }],
  ['lxc 3 /lxc.payload/<name>', '/lxc.payload/web1', { runtime: 'lxc', isContainer: true, name: 'web1' }],
  [
    'lxc 3 /lxc.monitor/<name>',
    '/lxc.monitor/web1',
    { runtime: 'lxc', kind: 'monitor', isContainer: false, name: 'web1' },
  ],
  ['lxc parent', '/lxc', { runtime: 'lxc', kind: 'slice', isContainer: false }],
  ['LXD project container', '/lxc.payload.proj_c1', { runtime: 'lxc', name: 'proj_c1' }],

  // ---- systemd units
  [
    'service',
    '/system.slice/nginx.service',
    { runtime: 'systemd', kind: 'unit', isContainer: false, name: 'nginx.service', containerId: null },
  ],
  ['slice', '/system.slice', { runtime: 'systemd', kind: 'slice', name: 'system.slice' }],
  [
    'user session scope',
    '/user.slice/user-1000.slice/session-3.scope',
    { runtime: 'systemd', kind: 'unit', name: 'session-3.scope' },
  ],
  [
    'user manager',
    '/user.slice/user-1000.slice/user@1000.service',
    { runtime: 'systemd', kind: 'unit', name: 'user@1000.service' },
  ],
  [
    'template instance with dots',
    '/system.slice/system-getty.slice/getty@tty1.service',
    { runtime: 'systemd', name: 'getty@tty1.service' },
  ],
  [
    'escaped unit name kept raw',
    '/system.slice/system-systemd\\x2dfsck.slice',
    { runtime: 'systemd', kind: 'slice', name: 'system-systemd\\x2dfsck.slice' },
  ],
  ['init.scope', '/init.scope', { runtime: 'systemd', kind: 'unit', name: 'init.scope' }],
  ['mount unit', '/system.slice/boot-efi.mount', { runtime: 'systemd', kind: 'unit', name: 'boot-efi.mount' }],
  [
    'cgroup below a service',
    '/system.slice/nginx.service/worker',
    { runtime: 'cgroup', kind: 'other', name: '/system.slice/nginx.service/worker' },
  ],
  [
    'machined nspawn container',
    '/machine.slice/machine-debian\\x2dbox.scope',
    { runtime: 'systemd', kind: 'container', isContainer: true, name: 'debian-box' },
  ],
  [
    'machined libvirt VM',
    '/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope',
    { runtime: 'systemd', isContainer: true, name: 'qemu-1-vm1' },
  ],
  [
    'machine-*.scope outside machine.slice is a unit',
    '/system.slice/machine-foo.scope',
    { runtime: 'systemd', kind: 'unit', isContainer: false },
  ],

  // ---- tstop's own launches
  [
    'tstop v1',
    '/tstop/web',
    { runtime: 'tstop', kind: 'container', isContainer: true, name: 'web', containerId: 'web' },
  ],
  [
    'tstop v1 name with dots and dashes',
    '/tstop/api-v2.blue',
    { runtime: 'tstop', isContainer: true, name: 'api-v2.blue' },
  ],
  [
    'tstop v2',
    '/tstop.slice/tstop-web.scope',
    { runtime: 'tstop', kind: 'container', isContainer: true, name: 'web', containerId: 'web' },
  ],
  [
    'tstop v2 name with dashes and dots',
    '/tstop.slice/tstop-my-app.v1.scope',
    { runtime: 'tstop', isContainer: true, name: 'my-app.v1' },
  ],
  ['tstop slice', '/tstop.slice', { runtime: 'tstop', kind: 'slice', isContainer: false }],
  ['tstop v1 group', '/tstop', { runtime: 'tstop', kind: 'slice', isContainer: false }],
  [
    'tstop child cgroup is nested',
    '/tstop/web/helper',
    { runtime: 'tstop', kind: 'nested', containerId: 'web', name: 'helper' },
  ],
  [
    'tstop rootless v2',
    '/user.slice/user-1000.slice/user@1000.service/tstop.slice/tstop-job.scope',
    { runtime: 'tstop', isContainer: true, name: 'job' },
  ],
  [
    'other scope under tstop.slice is systemd',
    '/tstop.slice/other.scope',
    { runtime: 'systemd', kind: 'unit', isContainer: false },
  ],
];

describe('classifyCgroupPath', () => {
  it.each(cases)('%s: %s', (_label, path, expected) => {
    const got = classifyCgroupPath(path);
    expect(got).toMatchObject(expected);
  });

  it('returns every field on every path', () => {
    for (const [, path] of cases) {
      const got = classifyCgroupPath(path);
      expect(Object.keys(got).sort()).toEqual(['containerId', 'isContainer', 'kind', 'kubernetes', 'name', 'runtime']);
      expect(got.isContainer).toBe(got.kind === 'container');
    }
  });

  it('is pure (same input, equal output)', () => {
    const p = `/kubepods.slice/kubepods-pod${POD_UID_SD}.slice/cri-containerd-${ID}.scope`;
    expect(classifyCgroupPath(p)).toEqual(classifyCgroupPath(p));
  });
});

describe('path helpers', () => {
  it('splits and normalises paths', () => {
    expect(cgroupPathComponents('/a//b/./c/')).toEqual(['a', 'b', 'c']);
    expect(normalizeCgroupPath('')).toBe('/');
    expect(normalizeCgroupPath('a/b/')).toBe('/a/b');
  });

  it('unescapes systemd names', () => {
    expect(unescapeSystemdName('qemu\\x2d1\\x2dvm')).toBe('qemu-1-vm');
    expect(unescapeSystemdName('plain')).toBe('plain');
  });
});

describe('classifyCgroupPath properties', () => {
  const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
  const segment = fc.stringMatching(/^[A-Za-z0-9_.@:\\-]{1,20}$/);

  it('never throws and keeps isContainer consistent with kind, for any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const c = classifyCgroupPath(s);
        expect(c.isContainer).toBe(c.kind === 'container');
      }),
      { numRuns: 2000 },
    );
  });

  it('any 64-hex id under /docker is a docker container, wherever /docker sits', () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 3 }), hex64, (prefix, id) => {
        fc.pre(!prefix.some((p) => p === 'docker' || p === '.'));
        const path = '/' + [...prefix, 'docker', id].join('/');
        const c = classifyCgroupPath(path);
        // an ancestor may itself be a container (then this is the inner one), but the leaf is docker's
        expect(c).toMatchObject({ runtime: 'docker', containerId: id, isContainer: true });
      }),
      { numRuns: 500 },
    );
  });

  it('systemd pod slices round-trip the pod UID', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.constantFrom('', 'burstable', 'besteffort'), (uid, qos) => {
        const slice =
          qos === ''
            ? `kubepods-pod${uid.replace(/-/g, '_')}.slice`
            : `kubepods-${qos}-pod${uid.replace(/-/g, '_')}.slice`;
        const c = classifyCgroupPath(`/kubepods.slice/${slice}`);
        expect(c.kind).toBe('pod');
        expect(c.kubernetes?.podUid).toBe(uid);
      }),
      { numRuns: 300 },
    );
  });
});
