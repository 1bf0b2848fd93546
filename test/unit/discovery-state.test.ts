import { cpSync, mkdtempSync, utimesSync, writeFileSync, unlinkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { criInfoFromAnnotations, parseKubeletName } from '../../src/discovery/cri.js';
import { FileCache } from '../../src/discovery/file-cache.js';
import { parseDockerConfig, readDockerContainer } from '../../src/discovery/runtimes/docker.js';
import { parseLxcConfig, readLxcConfig } from '../../src/discovery/runtimes/lxc.js';
import {
  containerdTaskConfigPath,
  listContainerdNamespaces,
  parseOciConfig,
  readOciConfig,
} from '../../src/discovery/runtimes/oci.js';
import {
  cgroupPathBelowMount,
  expandSlice,
  listRuncContainers,
  parseLabelPairs,
  parseRuncState,
  readRuncContainer,
  runcCgroupPath,
} from '../../src/discovery/runtimes/runc.js';
import {
  crioConfigPath,
  parseStorageContainers,
  readStorageContainers,
  readStorageImages,
} from '../../src/discovery/runtimes/storage.js';
import { parseTstopState, readTstopState } from '../../src/discovery/runtimes/tstop.js';
import {
  APP,
  BAD,
  CRIO_APP,
  CRIO_PAUSE,
  CRIO_POD,
  DB,
  DB_POD,
  EMPTY,
  F,
  POD,
  PODMAN_DB,
  PODMAN_TMP,
  PODMAN_WEB,
  SANDBOX,
  UNKNOWN,
  WEB,
  scratchDirs,
  sd,
} from '../helpers/runtime-fixtures.js';

const scratch = scratchDirs();

// ---------------------------------------------------------------------------
describe('docker config.v2.json', () => {
  it('reads name, image, image id, created, labels, pid and state', () => {
    const d = readDockerContainer(F('docker'), WEB, new FileCache());
    expect(d).toEqual({
      id: WEB,
      name: 'shop-web-1',
      image: 'nginx:1.25',
      imageId: 'sha256:82a2739a179dcc3de906eab6d756fae52a0063a2fedcd94c5137401a5a5b2752',
      created: '2024-03-11T08:15:01.734551907Z',
      labels: {
        'com.docker.compose.project': 'shop',
        'com.docker.compose.service': 'web',
        maintainer: 'NGINX Docker Maintainers <docker-maint@nginx.com>',
      },
      pid: 4242,
      running: true,
      paused: false,
      startedAt: '2024-03-11T08:15:02.118436512Z',
    });
  });

  it('keeps dockershim io.kubernetes.* labels', () => {
    const d = readDockerContainer(F('docker'), DB, new FileCache());
    expect(d?.name).toBe(`k8s_postgres_orders-db-0_shop_${DB_POD}_0`);
    expect(d?.labels['io.kubernetes.pod.name']).toBe('orders-db-0');
    expect(criInfoFromAnnotations(d?.labels ?? {})).toMatchObject({
      flavour: 'kubelet',
      pod: 'orders-db-0',
      namespace: 'shop',
      container: 'postgres',
      podUid: DB_POD,
      containerType: 'container',
    });
  });

  it('returns null for a corrupt file and notes it', () => {
    const cache = new FileCache();
    expect(readDockerContainer(F('docker'), BAD, cache)).toBeNull();
    expect(cache.problems()).toEqual([`${join(F('docker'), 'containers', BAD, 'config.v2.json')}: invalid JSON`]);
  });

  it('returns null for a missing container without a note', () => {
    const cache = new FileCache();
    expect(readDockerContainer(F('docker'), UNKNOWN, cache)).toBeNull();
    expect(readDockerContainer('/nonexistent/docker', WEB, cache)).toBeNull();
    expect(cache.problems()).toEqual([]);
  });

  it('refuses ids that are not a single path component', () => {
    expect(readDockerContainer(F('docker'), '../docker/containers', new FileCache())).toBeNull();
    expect(readDockerContainer(F('docker'), '', new FileCache())).toBeNull();
  });

  it('parses defensively', () => {
    expect(parseDockerConfig(null)).toBeNull();
    expect(parseDockerConfig([])).toBeNull();
    expect(parseDockerConfig({ Name: '/x' })).toBeNull();
    expect(parseDockerConfig({ ID: 'abc', Name: '/', State: { Pid: 0 }, Config: { Labels: null } })).toMatchObject({
      id: 'abc',
      name: null,
      pid: null,
      running: false,
      labels: {},
      image: null,
    });
    expect(parseDockerConfig({ ID: 'abc', Config: { Labels: { a: 'b', n: 3 } } })?.labels).toEqual({ a: 'b' });
  });
});

// ---------------------------------------------------------------------------
describe('runc state.json', () => {
  it('reads a runc 1.1 state on cgroup v2 with the systemd driver', () => {
    const r = readRuncContainer(F('runc/moby'), WEB, new FileCache());
    expect(r).toMatchObject({
      id: WEB,
      initPid: 4242,
      initProcessStart: 1893047,
      created: '2024-03-11T08:15:02.034717211Z',
      rootless: false,
      cgroupPath: `/system.slice/docker-${WEB}.scope`,
      bundle: `/run/containerd/io.containerd.runtime.v2.task/moby/${WEB}`,
      cgroupConfig: { path: null, name: WEB, parent: 'system.slice', scopePrefix: 'docker', systemd: true },
      stateFile: join(F('runc/moby'), WEB, 'state.json'),
    });
    expect(r?.cgroupPaths).toEqual({ '': `/sys/fs/cgroup/system.slice/docker-${WEB}.scope` });
  });

  it('reads per-controller cgroup v1 paths', () => {
    const r = readRuncContainer(F('runc/moby'), DB, new FileCache());
    expect(r?.cgroupPath).toBe(`/kubepods/burstable/pod${DB_POD}/${DB}`);
    expect(r?.cgroupPaths.cpu).toBe(`/sys/fs/cgroup/cpu,cpuacct/kubepods/burstable/pod${DB_POD}/${DB}`);
    expect(r?.cgroupConfig?.path).toBe(`/kubepods/burstable/pod${DB_POD}/${DB}`);
  });

  it('turns config.labels into a record (annotations included)', () => {
    const r = readRuncContainer(F('runc/k8s.io'), APP, new FileCache());
    expect(r?.labels['io.kubernetes.cri.container-name']).toBe('checkout');
    expect(r?.labels.bundle).toBe(`/run/containerd/io.containerd.runtime.v2.task/k8s.io/${APP}`);
    expect(r?.cgroupPath).toBe(
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sd(POD)}.slice/cri-containerd-${APP}.scope`,
    );
  });

  it('derives the cgroup from config.cgroups when cgroup_paths is absent', () => {
    const r = readRuncContainer(F('runc/default'), 'sd-job', new FileCache());
    expect(r?.cgroupPaths).toEqual({});
    expect(r?.cgroupPath).toBe('/batch.slice/batch-nightly.slice/runc-sd-job.scope');
    expect(r?.labels['org.example.owner']).toBe('ops=team');
  });

  it('lists a root, skipping corrupt states and noting them', () => {
    const cache = new FileCache();
    const list = listRuncContainers(F('runc/default'), cache);
    expect(list.map((c) => c.id)).toEqual(['job1', 'sd-job']);
    expect(list[0].cgroupPath).toBe('/batch/job1');
    expect(cache.problems()).toEqual([`${join(F('runc/default'), 'broken', 'state.json')}: invalid JSON`]);
    expect(listRuncContainers('/nonexistent/runc', cache)).toEqual([]);
  });

  it('refuses a state whose id does not match its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tstop-runc-'));
    scratch.push(dir);
    cpSync(join(F('runc/default'), 'job1'), join(dir, 'other'), { recursive: true });
    expect(readRuncContainer(dir, 'other', new FileCache())).toBeNull();
  });

  it('parses labels at the first "="', () => {
    expect(parseLabelPairs(['a=b=c', 'novalue', '=x', 'k=', 'a=second'])).toEqual({ a: 'b=c', k: '' });
  });

  it('parses defensively', () => {
    expect(parseRuncState(null)).toBeNull();
    expect(parseRuncState({ init_process_pid: 3 })).toBeNull();
    expect(parseRuncState({ id: 'x', init_process_pid: 0, config: { labels: 'nope' } })).toMatchObject({
      id: 'x',
      initPid: null,
      labels: {},
      cgroupPath: null,
    });
  });
});

describe('cgroup path helpers', () => {
  it('expands systemd slices', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice(`kubepods-burstable-pod${sd(POD)}.slice`)).toBe(
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sd(POD)}.slice`,
    );
    expect(expandSlice('-.slice')).toBe('');
    expect(expandSlice('')).toBe('');
  });

  it('strips the mount point for v1, v2 and hybrid layouts', () => {
    expect(cgroupPathBelowMount('/sys/fs/cgroup/system.slice/x.scope', '/sys/fs/cgroup', false)).toBe(
      '/system.slice/x.scope',
    );
    expect(cgroupPathBelowMount('/sys/fs/cgroup/unified/docker/x', '/sys/fs/cgroup/', false)).toBe('/docker/x');
    expect(cgroupPathBelowMount('/sys/fs/cgroup/cpu,cpuacct/docker/x', '/sys/fs/cgroup', true)).toBe('/docker/x');
    expect(cgroupPathBelowMount('/sys/fs/cgroup', '/sys/fs/cgroup', false)).toBe('/');
    expect(cgroupPathBelowMount('/elsewhere/docker/x', '/sys/fs/cgroup', true)).toBeNull();
  });

  it('derives cgroup paths from config.cgroups', () => {
    const base = { path: null, name: null, parent: null, scopePrefix: null, systemd: false };
    expect(runcCgroupPath({}, { ...base, path: '/a/b/' }, false, '/sys/fs/cgroup')).toBe('/a/b');
    expect(runcCgroupPath({}, { ...base, path: 'system.slice:docker:abc' }, false, '/sys/fs/cgroup')).toBe(
      '/system.slice/docker-abc.scope',
    );
    expect(runcCgroupPath({}, { ...base, name: 'c1', systemd: true }, true, '/sys/fs/cgroup')).toBe(
      '/user.slice/c1.scope',
    );
    expect(
      runcCgroupPath({}, { ...base, name: 'my.slice', parent: 'system.slice', systemd: true }, false, '/sys/fs/cgroup'),
    ).toBe('/system.slice/my.slice');
    expect(runcCgroupPath({}, { ...base, name: 'c1', parent: '/parent' }, false, '/sys/fs/cgroup')).toBe('/parent/c1');
    expect(runcCgroupPath({}, base, false, '/sys/fs/cgroup')).toBeNull();
    expect(runcCgroupPath({}, null, false, '/sys/fs/cgroup')).toBeNull();
    // v1 keys are preferred in a fixed order, whatever the map's order
    expect(
      runcCgroupPath(
        { rdma: '/sys/fs/cgroup/rdma/x', memory: '/sys/fs/cgroup/memory/y' },
        null,
        false,
        '/sys/fs/cgroup',
      ),
    ).toBe('/y');
  });
});

// ---------------------------------------------------------------------------
describe('containers/storage (podman)', () => {
  it('reads containers.json and volatile-containers.json', () => {
    const m = readStorageContainers(F('containers/storage'), new FileCache());
    expect(m === null ? [] : [...m.keys()].sort()).toEqual([PODMAN_TMP, PODMAN_DB, CRIO_APP, PODMAN_WEB].sort());
    expect(m?.get(PODMAN_WEB)).toMatchObject({
      names: ['web'],
      imageId: '82a2739a179dcc3de906eab6d756fae52a0063a2fedcd94c5137401a5a5b2752',
      created: '2024-03-11T08:16:40.551623487Z',
      metadata: { name: 'web', imageName: 'docker.io/library/nginx:latest', podName: null, createdAt: 1710145000 },
    });
    expect(m?.get(PODMAN_TMP)?.names).toEqual(['scratch']);
    expect(m?.get(CRIO_APP)?.metadata).toMatchObject({ metadataName: 'payments', podId: CRIO_PAUSE });
  });

  it('reads images.json names by image id', () => {
    const images = readStorageImages(F('containers/storage'), new FileCache());
    expect(images?.get('d86058a9f36d32a9b6fe6f820cda2b26918d1f8cf40a8692a56a418e0547611f')?.names).toEqual([
      'docker.io/library/postgres:16',
      'docker.io/library/postgres:16.2',
    ]);
    expect(images?.size).toBe(5);
  });

  it('returns null when there is no storage', () => {
    expect(readStorageContainers(EMPTY, new FileCache())).toBeNull();
    expect(readStorageImages(EMPTY, new FileCache())).toBeNull();
  });

  it('tolerates free-form metadata and junk entries', () => {
    expect(parseStorageContainers({})).toBeNull();
    expect(parseStorageContainers([1, { id: 'x', metadata: 'not json' }, { id: 'y', metadata: '[1]' }])).toEqual([
      expect.objectContaining({ id: 'x', names: [], metadata: expect.objectContaining({ name: null }) }),
      expect.objectContaining({ id: 'y' }),
    ]);
  });
});

// ---------------------------------------------------------------------------
describe('OCI config.json and CRI annotations', () => {
  it('reads a containerd CRI container', () => {
    const cfg = readOciConfig(containerdTaskConfigPath(F('containerd'), 'k8s.io', APP), new FileCache());
    expect(cfg?.cgroupsPath).toBe(`kubepods-burstable-pod${sd(POD)}.slice:cri-containerd:${APP}`);
    expect(criInfoFromAnnotations(cfg?.annotations ?? {})).toEqual({
      containerType: 'container',
      pod: 'checkout-7c9d8f6b5-x2k4q',
      namespace: 'shop',
      podUid: POD,
      container: 'checkout',
      image: 'registry.example.com/shop/checkout:2.3.1',
      sandboxId: SANDBOX,
      flavour: 'containerd',
    });
  });

  it('names a containerd sandbox POD', () => {
    const cfg = readOciConfig(containerdTaskConfigPath(F('containerd'), 'k8s.io', SANDBOX), new FileCache());
    expect(criInfoFromAnnotations(cfg?.annotations ?? {})).toMatchObject({
      containerType: 'sandbox',
      container: 'POD',
      image: null,
    });
  });

  it('reads a CRI-O container, preferring ImageName over the Image id', () => {
    const cfg = readOciConfig(crioConfigPath(F('crio-run'), CRIO_APP), new FileCache());
    expect(criInfoFromAnnotations(cfg?.annotations ?? {})).toEqual({
      containerType: 'container',
      pod: 'payments-5b7f9c8d4-qw7rt',
      namespace: 'shop',
      podUid: CRIO_POD,
      container: 'payments',
      image: 'quay.io/example/payments:1.8.0',
      sandboxId: CRIO_PAUSE,
      flavour: 'crio',
    });
  });

  it('falls back to the CRI-O Image annotation', () => {
    expect(
      criInfoFromAnnotations({
        'io.kubernetes.cri-o.ContainerType': 'container',
        'io.kubernetes.cri-o.Image': 'busybox',
      })?.image,
    ).toBe('busybox');
  });

  it('returns null when annotations carry no Kubernetes metadata', () => {
    expect(criInfoFromAnnotations({})).toBeNull();
    expect(criInfoFromAnnotations({ 'org.opencontainers.image.title': 'x' })).toBeNull();
  });

  it('rejects JSON that is not a runtime spec', () => {
    expect(parseOciConfig({ annotations: { a: 'b' } })).toBeNull();
    expect(parseOciConfig({ ociVersion: '1.0.2' })).toEqual({ annotations: {}, hostname: null, cgroupsPath: null });
  });

  it('lists containerd namespaces with k8s.io first', () => {
    expect(listContainerdNamespaces(F('containerd'), new FileCache())).toEqual(['k8s.io', 'moby']);
    expect(listContainerdNamespaces(EMPTY, new FileCache())).toEqual([]);
  });
});

describe('kubelet container names', () => {
  it.each([
    [
      `k8s_postgres_orders-db-0_shop_${DB_POD}_0`,
      { container: 'postgres', pod: 'orders-db-0', namespace: 'shop', podUid: DB_POD, attempt: 0 },
    ],
    [`/k8s_POD_orders-db-0_shop_${DB_POD}_3`, { container: 'POD', pod: 'orders-db-0', namespace: 'shop', attempt: 3 }],
    [
      `k8s_payments-5b7f9c8d4-qw7rt_shop_${CRIO_POD}_0`,
      { container: 'POD', pod: 'payments-5b7f9c8d4-qw7rt', podUid: CRIO_POD },
    ],
  ])('parses %s', (name, expected) => {
    expect(parseKubeletName(name)).toMatchObject(expected);
  });

  it.each(['web', 'k8s_a_b', 'k8s_a_b_c_d_x', 'k8s__b_c_d_0', 'k8s_a_b_c_d_e_f_0'])('rejects %s', (name) => {
    expect(parseKubeletName(name)).toBeNull();
  });
});

// ---------------------------------------------------------------------------
describe('LXC config', () => {
  it('reads lxc.uts.name and keys, ignoring comments', () => {
    const c = readLxcConfig(F('lxc'), 'web1', new FileCache());
    expect(c?.utsName).toBe('web1');
    expect(c?.entries['lxc.rootfs.path']).toBe('dir:/var/lib/lxc/web1/rootfs');
    expect(c?.entries['lxc.include']).toBe('/usr/share/lxc/config/common.conf');
    expect(Object.keys(c?.entries ?? {}).some((k) => k.startsWith('#'))).toBe(false);
  });

  it('understands the pre-2.1 lxc.utsname key', () => {
    expect(readLxcConfig(F('lxc'), 'old1', new FileCache())?.utsName).toBe('old1-host');
  });

  it('is optional', () => {
    expect(readLxcConfig(F('lxc'), 'ghost', new FileCache())).toBeNull();
    expect(parseLxcConfig('garbage\n= x\n').entries).toEqual({});
  });
});

describe('tstop state', () => {
  it('reads loosely, ignoring unknown fields', () => {
    expect(readTstopState(F('tstop'), 'web', new FileCache())).toEqual({
      name: 'web',
      image: 'docker.io/library/alpine:3.19',
      pid: 31337,
      cgroup: '/tstop.slice/tstop-web.scope',
    });
    expect(readTstopState(F('tstop'), 'minimal', new FileCache())).toEqual({
      name: null,
      image: null,
      pid: 31400,
      cgroup: null,
    });
  });

  it('returns null on corrupt or missing files', () => {
    const cache = new FileCache();
    expect(readTstopState(F('tstop'), 'broken', cache)).toBeNull();
    expect(readTstopState(F('tstop'), 'ghost', cache)).toBeNull();
    expect(cache.problems()).toHaveLength(1);
    expect(parseTstopState({ pid: -4, name: 7 })).toEqual({ name: null, image: null, pid: null, cgroup: null });
  });
});

// ---------------------------------------------------------------------------
describe('FileCache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tstop-cache-'));
    scratch.push(dir);
  });

  it('costs one stat and no read while the file is unchanged', () => {
    const p = join(dir, 'a.json');
    writeFileSync(p, '{"v":1}');
    const cache = new FileCache();
    const parse = (raw: unknown): number | null =>
      typeof raw === 'object' && raw !== null && 'v' in raw ? Number(raw.v) : null;
    expect(cache.readJson(p, 't', parse)).toBe(1);
    expect(cache.counters).toEqual({ stats: 1, reads: 1 });
    expect(cache.readJson(p, 't', parse)).toBe(1);
    expect(cache.counters).toEqual({ stats: 2, reads: 1 });
    writeFileSync(p, '{"v":22}');
    utimesSync(p, new Date(), new Date(Date.now() + 5000));
    expect(cache.readJson(p, 't', parse)).toBe(22);
    expect(cache.counters.reads).toBe(2);
  });

  it('remembers a corrupt file until it changes, then recovers', () => {
    const p = join(dir, 'b.json');
    writeFileSync(p, '{"v":');
    const cache = new FileCache();
    const parse = (raw: unknown): unknown => raw;
    expect(cache.readJson(p, 't', parse)).toBeNull();
    expect(cache.readJson(p, 't', parse)).toBeNull();
    expect(cache.counters.reads).toBe(1);
    expect(cache.problems()).toEqual([`${p}: invalid JSON`]);
    writeFileSync(p, '{"v":1}');
    utimesSync(p, new Date(), new Date(Date.now() + 5000));
    expect(cache.readJson(p, 't', parse)).toEqual({ v: 1 });
    expect(cache.problems()).toEqual([]);
  });

  it('forgets a file that disappears', () => {
    const p = join(dir, 'c.json');
    writeFileSync(p, '1');
    const cache = new FileCache();
    expect(cache.readJson(p, 't', (r) => r)).toBe(1);
    unlinkSync(p);
    expect(cache.readJson(p, 't', (r) => r)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('sweeps entries unused since the previous sweep', () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, '1');
    writeFileSync(b, '2');
    const cache = new FileCache();
    cache.readJson(a, 't', (r) => r);
    cache.readJson(b, 't', (r) => r);
    cache.sweep(); // both used in this generation: kept
    expect(cache.size).toBe(2);
    cache.readJson(a, 't', (r) => r);
    cache.sweep(); // b unused since the previous sweep: dropped
    expect(cache.size).toBe(1);
  });

  // root reads anything, so this only runs as an ordinary user
  it.skipIf(process.getuid?.() === 0)('notes a directory it may not read (as non-root)', () => {
    const d = join(dir, 'locked');
    cpSync(F('tstop'), d, { recursive: true });
    chmodSync(d, 0o000);
    const cache = new FileCache();
    expect(readTstopState(d, 'web', cache)).toBeNull();
    expect(cache.problems().join()).toMatch(/EACCES/);
    chmodSync(d, 0o755);
  });
});
