import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyCgroupPath } from '../../src/discovery/classify.js';
import type { CgroupMounts, Hierarchy } from '../../src/cgroupfs/mounts.js';
import { listCgroupIds, listCgroups } from '../../src/discovery/listing.js';
import { DEFAULT_RUNTIME_STATE_OPTIONS, RuntimeStateReader } from '../../src/discovery/runtime-state.js';
import { containerdTaskConfigPath } from '../../src/discovery/runtimes/oci.js';
import { crioConfigPath } from '../../src/discovery/runtimes/storage.js';
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
  fixtureOptions,
  scratchDirs,
  sd,
} from '../helpers/runtime-fixtures.js';

const scratch = scratchDirs();

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
