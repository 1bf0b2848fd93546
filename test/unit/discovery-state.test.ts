import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
  readFileSync,
  unlinkSync,
  chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyCgroupPath } from '../../src/discovery/classify.js';
import type { CgroupMounts, Hierarchy } from '../../src/cgroupfs/mounts.js';
import { criInfoFromAnnotations, parseKubeletName } from '../../src/discovery/cri.js';
import { FileCache } from '../../src/discovery/file-cache.js';
import { listCgroupIds, listCgroups } from '../../src/discovery/listing.js';
import {
  DEFAULT_RUNTIME_STATE_OPTIONS,
  RuntimeStateReader,
  type RuntimeStateOptions,
} from '../../src/discovery/runtime-state.js';
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

const FIX = fileURLToPath(new URL('../fixtures/runtime-state/', import.meta.url));
const F = (rel: string): string => join(FIX, rel);

const WEB = '89de610395df15fb62d954cd0cf6dbf068e8cfd0c993e03307e613b7e425a047';
const DB = '6406631453bfeb5ed767a405a3158aa49259ccbe0eb6773bb15b397983b7b7a6';
const BAD = '411b12e1beccfa5b3d1855308d5bd7fcaefc56f52764c45288b617bd2b61ae97';
const APP = '676bcffe3674981d618cca194c6a7435d4108c5970b8955b77a6080a64aec86e';
const SANDBOX = 'd37a601fcb06c0e9c6152ed5e20cae5fe26438d247381160022a320479ae890a';
const POD = '1f0e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const DB_POD = '5e1c2a9b-7d3f-4b8e-a6c1-0f2d4e6a8b0c';
const CRIO_APP = 'f066ac7fffc4e29ab0f689d060c5339c8ff24f28aa64505f9ac14241b10e9244';
const CRIO_PAUSE = 'f21c42c62d10eee26b46be92665f6c6f0b3a7530930acc2244ffd4a637a7fade';
const CRIO_POD = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const PODMAN_WEB = 'e1065adc5e522bdee438974e483e1ae0af4bde82e665a65a761a4d75b765fa0a';
const PODMAN_DB = 'c6faf8a166aeedca476ddd1f22ace9a9ff28d14405aade7cc3d8fbf0e448ca58';
const PODMAN_TMP = '3212be000ca4b8fb4bd9c218262d1046858962f85aa04543a6d34fcf9924762c';
const UNKNOWN = 'a'.repeat(64);
const sd = (uid: string): string => uid.replace(/-/g, '_');

const fixtureOptions = (): RuntimeStateOptions => ({
  dockerRoot: F('docker'),
  runcRoots: [F('runc/moby'), F('runc/k8s.io'), F('runc/default')],
  podmanRoot: F('containers'),
  containerdRoot: F('containerd'),
  crioRoots: [F('crio-run'), F('containers/storage')],
  lxcRoot: F('lxc'),
  tstopRunDir: F('tstop'),
  cgroupMount: '/sys/fs/cgroup',
});

const EMPTY = mkdtempSync(join(tmpdir(), 'tstop-empty-'));
const scratch: string[] = [EMPTY];
afterAll(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

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

// ---------------------------------------------------------------------------
const describeP = (reader: RuntimeStateReader, path: string): ReturnType<RuntimeStateReader['describe']> =>
  reader.describe(classifyCgroupPath(path), path);

describe('RuntimeStateReader.describe', () => {
  it('has defaults for every option', () => {
    const r = new RuntimeStateReader();
    expect(r.options).toEqual(DEFAULT_RUNTIME_STATE_OPTIONS);
    expect(new RuntimeStateReader({ dockerRoot: '/x' }).options.dockerRoot).toBe('/x');
  });

  it('docker (systemd driver)', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/system.slice/docker-${WEB}.scope`)).toEqual({
      runtime: 'docker',
      name: 'shop-web-1',
      image: 'nginx:1.25',
      containerId: WEB,
      kubernetes: null,
      labels: expect.objectContaining({ 'com.docker.compose.service': 'web' }),
      runtimeConfig: { memoryLimitBytes: 268435456, cpus: 0.5, pidsLimit: null, paused: false },
      pid: 4242,
      source: join(F('docker'), 'containers', WEB, 'config.v2.json'),
    });
  });

  it('docker nested cgroups and cgroupfs describe the same container', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/docker/${WEB}/init.scope`)?.name).toBe('shop-web-1');
    expect(describeP(r, `/docker/${WEB}`)?.name).toBe('shop-web-1');
  });

  it('a bare id under a pod resolves to docker (dockershim) with Kubernetes labels', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/kubepods/burstable/pod${DB_POD}/${DB}`)).toMatchObject({
      runtime: 'docker',
      name: `k8s_postgres_orders-db-0_shop_${DB_POD}_0`,
      image: 'postgres@sha256:d86058a9f36d32a9b6fe6f820cda2b26918d1f8cf40a8692a56a418e0547611f',
      kubernetes: { pod: 'orders-db-0', namespace: 'shop', container: 'postgres', podUid: DB_POD },
      pid: 5150,
    });
  });

  it('containerd CRI container (systemd driver)', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    const path = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sd(POD)}.slice/cri-containerd-${APP}.scope`;
    expect(describeP(r, path)).toEqual({
      runtime: 'containerd',
      name: 'checkout-7c9d8f6b5-x2k4q/checkout',
      image: 'registry.example.com/shop/checkout:2.3.1',
      containerId: APP,
      kubernetes: { pod: 'checkout-7c9d8f6b5-x2k4q', namespace: 'shop', container: 'checkout', podUid: POD },
      labels: expect.objectContaining({ 'io.kubernetes.cri.container-type': 'container' }),
      pid: null,
      source: containerdTaskConfigPath(F('containerd'), 'k8s.io', APP),
    });
  });

  it('a bare id under a pod resolves to containerd (cgroupfs driver)', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/kubepods/burstable/pod${POD}/${APP}`)).toMatchObject({
      runtime: 'containerd',
      name: 'checkout-7c9d8f6b5-x2k4q/checkout',
    });
  });

  it('a containerd sandbox is POD with no image', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/kubepods/burstable/pod${POD}/${SANDBOX}`)).toMatchObject({
      runtime: 'containerd',
      name: 'checkout-7c9d8f6b5-x2k4q/POD',
      image: null,
      kubernetes: { container: 'POD', podUid: POD },
    });
  });

  it('falls back to runc state when the containerd task dir is gone', () => {
    const r = new RuntimeStateReader({ ...fixtureOptions(), containerdRoot: EMPTY });
    const path = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${sd(POD)}.slice/cri-containerd-${APP}.scope`;
    expect(describeP(r, path)).toMatchObject({
      runtime: 'containerd',
      name: 'checkout-7c9d8f6b5-x2k4q/checkout',
      image: 'registry.example.com/shop/checkout:2.3.1',
      pid: 7001,
      source: join(F('runc/k8s.io'), APP, 'state.json'),
    });
  });

  it('CRI-O container and sandbox', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    const pod = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${sd(CRIO_POD)}.slice`;
    expect(describeP(r, `${pod}/crio-${CRIO_APP}.scope`)).toMatchObject({
      runtime: 'crio',
      name: 'payments-5b7f9c8d4-qw7rt/payments',
      image: 'quay.io/example/payments:1.8.0',
      kubernetes: { pod: 'payments-5b7f9c8d4-qw7rt', namespace: 'shop', container: 'payments', podUid: CRIO_POD },
      source: crioConfigPath(F('crio-run'), CRIO_APP),
    });
    expect(describeP(r, `${pod}/crio-${CRIO_PAUSE}.scope`)).toMatchObject({ name: 'payments-5b7f9c8d4-qw7rt/POD' });
    // conmon describes the container it watches
    expect(describeP(r, `${pod}/crio-conmon-${CRIO_APP}.scope`)?.name).toBe('payments-5b7f9c8d4-qw7rt/payments');
  });

  it('CRI-O falls back to containers/storage metadata', () => {
    const r = new RuntimeStateReader({ ...fixtureOptions(), crioRoots: [EMPTY] });
    expect(describeP(r, `/kubepods/besteffort/pod${CRIO_POD}/crio-${CRIO_APP}`)).toMatchObject({
      runtime: 'crio',
      name: 'payments-5b7f9c8d4-qw7rt/payments',
      image: 'quay.io/example/payments:1.8.0',
      kubernetes: { pod: 'payments-5b7f9c8d4-qw7rt', namespace: 'shop', container: 'payments', podUid: CRIO_POD },
    });
  });

  it('podman: name, image from metadata, from images.json, and volatile containers', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/machine.slice/libpod-${PODMAN_WEB}.scope`)).toMatchObject({
      runtime: 'podman',
      name: 'web',
      image: 'docker.io/library/nginx:latest',
      containerId: PODMAN_WEB,
      kubernetes: null,
    });
    expect(describeP(r, `/machine.slice/libpod-${PODMAN_DB}.scope`)).toMatchObject({
      name: 'db',
      image: 'docker.io/library/postgres:16',
    });
    expect(
      describeP(r, `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${PODMAN_TMP}.scope/container`),
    ).toMatchObject({
      name: 'scratch',
      image: 'docker.io/library/alpine:3.19',
    });
    expect(describeP(r, `/machine.slice/libpod-conmon-${PODMAN_WEB}.scope`)?.name).toBe('web');
    expect(describeP(r, `/system.slice/web.service/libpod-payload-${PODMAN_WEB}`)?.name).toBe('web');
    expect(r.podmanContainers()).toHaveLength(4);
  });

  it('an id the path does not place resolves through docker first', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, `/ecs/3f1c2d4e5b6a/${WEB}`)).toMatchObject({ runtime: 'docker', name: 'shop-web-1' });
  });

  it("docker's containerd task (namespace moby) is docker", () => {
    const r = new RuntimeStateReader({ ...fixtureOptions(), dockerRoot: EMPTY, runcRoots: [] });
    expect(describeP(r, `/ecs/3f1c2d4e5b6a/${WEB}`)).toMatchObject({ runtime: 'docker', name: null, containerId: WEB });
  });

  it('runc: a custom cgroupsPath maps back to its container', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(classifyCgroupPath('/batch/job1').runtime).toBe('cgroup');
    expect(describeP(r, '/batch/job1')).toMatchObject({
      runtime: 'runc',
      name: 'job1',
      containerId: 'job1',
      pid: 9100,
      labels: { bundle: '/srv/bundles/job1' },
    });
    expect(describeP(r, '/batch.slice/batch-nightly.slice/runc-sd-job.scope')).toMatchObject({
      runtime: 'runc',
      name: 'sd-job',
      pid: 9200,
    });
    expect(r.runcForCgroup('/batch/job1/')?.id).toBe('job1');
    expect(describeP(r, '/batch/job2')).toBeNull();
  });

  it('rescan lists runc containers of every root', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(
      r
        .runcContainers()
        .map((c) => c.id)
        .sort(),
    ).toEqual([APP, DB, WEB, 'job1', 'sd-job'].sort());
    expect(r.problems()).toEqual([`${join(F('runc/default'), 'broken', 'state.json')}: invalid JSON`]);
  });

  it('LXC: name from the path, config optional', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, '/lxc.payload.web1')).toEqual({
      runtime: 'lxc',
      name: 'web1',
      image: null,
      containerId: 'web1',
      kubernetes: null,
      labels: { 'lxc.uts.name': 'web1', 'lxc.rootfs.path': 'dir:/var/lib/lxc/web1/rootfs', 'lxc.arch': 'linux64' },
      pid: null,
      source: join(F('lxc'), 'web1', 'config'),
    });
    expect(describeP(r, '/lxc/ghost')).toMatchObject({ name: 'ghost', source: null, labels: {} });
    expect(describeP(r, '/lxc.monitor.web1')?.name).toBe('web1');
  });

  it("tstop's own launches", () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, '/tstop.slice/tstop-web.scope')).toMatchObject({
      runtime: 'tstop',
      name: 'web',
      image: 'docker.io/library/alpine:3.19',
      pid: 31337,
      source: join(F('tstop'), 'web.json'),
    });
    expect(describeP(r, '/tstop/minimal')).toMatchObject({ name: 'minimal', pid: 31400 });
    expect(describeP(r, '/tstop/broken')).toMatchObject({ name: 'broken', image: null, source: null });
    expect(r.problems()).toContain(`${join(F('tstop'), 'broken.json')}: invalid JSON`);
  });

  it('returns null where no state can tell', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    expect(describeP(r, '/system.slice/nginx.service')).toBeNull();
    expect(describeP(r, '/machine.slice/machine-debian\\x2dbox.scope')).toBeNull();
    expect(describeP(r, `/kubepods.slice/kubepods-pod${sd(POD)}.slice`)).toBeNull();
    expect(describeP(r, '/libpod_parent/conmon')).toBeNull();
    expect(describeP(r, `/system.slice/docker-${UNKNOWN}.scope`)).toBeNull();
    expect(describeP(r, `/docker/${BAD}`)).toBeNull();
    expect(r.problems()).toContain(`${join(F('docker'), 'containers', BAD, 'config.v2.json')}: invalid JSON`);
  });

  it('keeps the pod UID from the path when the state has none', () => {
    const r = new RuntimeStateReader({ ...fixtureOptions(), crioRoots: [EMPTY], podmanRoot: EMPTY });
    // A plain docker container has no io.kubernetes labels: the path's pod UID is kept.
    const d = r.describe(
      {
        runtime: 'kubernetes',
        containerId: WEB,
        name: null,
        isContainer: true,
        kind: 'container',
        kubernetes: { podUid: 'u-1', qosClass: 'Burstable' },
      },
      `/kubepods/burstable/podu-1/${WEB}`,
    );
    expect(d).toMatchObject({
      runtime: 'docker',
      name: 'shop-web-1',
      kubernetes: { pod: null, namespace: null, container: null, podUid: 'u-1' },
    });
  });

  it('never throws on hostile classifications', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    const bad = {
      runtime: 'docker' as const,
      containerId: '../../../etc/passwd',
      name: null,
      isContainer: true,
      kind: 'container' as const,
      kubernetes: null,
    };
    expect(r.describe(bad, '/x')).toBeNull();
    expect(r.describe({ ...bad, runtime: 'tstop', containerId: '../x' }, '/x')).toMatchObject({
      name: '../x',
      source: null,
    });
    expect(r.describe({ ...bad, runtime: 'lxc', containerId: '/' }, '/x')).toMatchObject({ source: null });
  });
});

describe('RuntimeStateReader lookup order', () => {
  it("asks the engines the path may mean in the order of the providers' ranks", () => {
    const r = new RuntimeStateReader(fixtureOptions());
    const order = (rt: Parameters<typeof r.lookupOrder>[0]): string[] => r.lookupOrder(rt).map((p) => p.source);
    expect(order('docker')).toEqual(['docker', 'runc']);
    expect(order('podman')).toEqual(['storage', 'runc']);
    expect(order('containerd')).toEqual(['containerd', 'runc']);
    expect(order('crio')).toEqual(['crio', 'storage', 'runc']);
    expect(order('kubernetes')).toEqual(['containerd', 'docker', 'crio', 'storage', 'runc']);
    expect(order('runc')).toEqual(['docker', 'containerd', 'storage', 'crio', 'runc']);
    expect(order('lxc')).toEqual(['lxc']);
    expect(order('tstop')).toEqual(['tstop']);
    expect(order('systemd')).toEqual([]);
    expect(order('cgroup')).toEqual([]);
  });
});

describe('listCgroups (the one listing the collector and the limiter share)', () => {
  it('walks one v1 hierarchy and the unified tree once each, and names every cgroup as the snapshot does', () => {
    const base = mkdtempSync(join(tmpdir(), 'tstop-listing-'));
    scratch.push(base);
    const hierarchy = (kind: 'v1' | 'v2', dir: string, controllers: string[]): Hierarchy => ({
      kind,
      mountPoint: join(base, dir),
      mountRoot: '/',
      controllers,
      name: null,
      device: '0:0',
    });
    const memory = hierarchy('v1', 'memory', ['memory']);
    const cpu = hierarchy('v1', 'cpu', ['cpu', 'cpuacct']);
    const unified = hierarchy('v2', 'unified', []);
    for (const d of [
      `memory/docker/${WEB}`,
      'memory/batch/job1',
      `cpu/docker/${DB}`,
      'unified/system.slice/ssh.service',
    ]) {
      mkdirSync(join(base, d), { recursive: true });
    }
    const mounts: CgroupMounts = {
      mode: 'hybrid',
      hierarchies: [cpu, memory, unified],
      unified,
      source: '',
      root: '/',
    };
    expect(listCgroupIds(mounts).sort()).toEqual([
      '/',
      '/batch',
      '/batch/job1',
      '/docker',
      `/docker/${WEB}`,
      '/system.slice',
      '/system.slice/ssh.service',
    ]);
    const listed = listCgroups(mounts, new RuntimeStateReader(fixtureOptions()));
    const byId = new Map(listed.map((c) => [c.id, c]));
    expect(byId.get(`/docker/${WEB}`)).toMatchObject({ runtime: 'docker', name: 'shop-web-1', containerId: WEB });
    expect(byId.get('/batch/job1')).toMatchObject({ runtime: 'runc', name: 'job1', containerId: 'job1' });
    expect(byId.get('/system.slice/ssh.service')).toMatchObject({ runtime: 'systemd', name: 'ssh.service' });
    expect(byId.get('/batch')).toMatchObject({ runtime: 'cgroup', name: '/batch', containerId: null });
  });
});

describe('RuntimeStateReader cost per tick', () => {
  it('one stat per known container once resolved, none for known-missing ones', () => {
    const r = new RuntimeStateReader(fixtureOptions());
    const paths = [
      `/system.slice/docker-${WEB}.scope`,
      `/kubepods/burstable/pod${POD}/${APP}`,
      `/kubepods/besteffort/pod${CRIO_POD}/crio-${CRIO_APP}`,
      `/machine.slice/libpod-${PODMAN_DB}.scope`,
      `/system.slice/docker-${UNKNOWN}.scope`,
    ];
    const tick = (): void => {
      for (const p of paths) describeP(r, p);
    };
    r.rescan();
    tick(); // first tick probes
    const before = { ...r.cache.counters };
    tick();
    const stats = r.cache.counters.stats - before.stats;
    const reads = r.cache.counters.reads - before.reads;
    // docker 2 (config.v2.json, hostconfig.json), containerd 1, crio 1,
    // podman: containers.json + volatile-containers.json + images.json
    expect(stats).toBe(2 + 1 + 1 + 3 + 0);
    expect(reads).toBe(0);
  });

  it('re-reads a changed file and re-probes a vanished one', () => {
    const root = mkdtempSync(join(tmpdir(), 'tstop-docker-'));
    scratch.push(root);
    cpSync(F('docker'), root, { recursive: true });
    const r = new RuntimeStateReader({ ...fixtureOptions(), dockerRoot: root, runcRoots: [] });
    const path = `/system.slice/docker-${WEB}.scope`;
    expect(describeP(r, path)?.name).toBe('shop-web-1');
    const file = join(root, 'containers', WEB, 'config.v2.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"/shop-web-1"', '"/renamed"'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(describeP(r, path)?.name).toBe('renamed');
    rmSync(join(root, 'containers', WEB), { recursive: true });
    expect(describeP(r, path)).toBeNull();
    // known missing until the next rescan: no stats at all
    const before = r.cache.counters.stats;
    expect(describeP(r, path)).toBeNull();
    expect(r.cache.counters.stats).toBe(before);
    cpSync(join(F('docker'), 'containers', WEB), join(root, 'containers', WEB), { recursive: true });
    r.rescan();
    expect(describeP(r, path)?.name).toBe('shop-web-1');
  });
});
