// docs/snapshot.schema.json is the public contract of `tstop snapshot --json`.
// These tests keep it and the model from drifting apart: the schema's shape is
// checked against the TypeScript types (key lists the compiler checks), and
// real snapshots (the fixture hosts and, as root, this host) must validate,
// both as objects and as the JSON text the CLI prints.

import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES } from '../../src/discovery/classify.js';
import { snapshotJson } from '../../src/cli/snapshot.js';
import { Collector } from '../../src/collect/collector.js';
import { byCpuThenMemory, selectContainers } from '../../src/model/select.js';
import {
  NAMESPACE_TYPES,
  type Capabilities,
  type CgroupMode,
  type ContainerSnapshot,
  type CpuStats,
  type DeviceRule,
  type DevicesStats,
  type FreezerState,
  type HostInfo,
  type HugetlbStats,
  type IoDeviceStats,
  type IoLimit,
  type IoStats,
  type KubernetesInfo,
  type RuntimeConfig,
  type MemoryEvents,
  type MemoryStats,
  type NamespaceInfo,
  type Namespaces,
  type NetworkInterface,
  type PidsStats,
  type Pressure,
  type PressureLine,
  type PressureResource,
  type Snapshot,
} from '../../src/model/types.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { cpuQuota } from '../helpers/kernel.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface SchemaNode {
  description?: string;
  type?: string | string[];
  enum?: Json[];
  $ref?: string;
  anyOf?: SchemaNode[];
  items?: SchemaNode;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean;
  propertyNames?: SchemaNode;
  $defs?: Record<string, SchemaNode>;
}

const SCHEMA_PATH = path.resolve(__dirname, '../../docs/snapshot.schema.json');
const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8')) as SchemaNode;
const defs = schema.$defs ?? {};
const HOSTS = path.resolve(__dirname, '../fixtures/hosts');

/** Every key of T, exactly: the compiler rejects a missing key and an extra one. */
const keys = <T>(k: Record<keyof T, true>): string[] => Object.keys(k);
/** Every member of a string union, exactly. */
const members = <T extends string>(k: Record<T, true>): string[] => Object.keys(k);

/** The model's keys for the root schema ("#") and each $defs entry. */
const MODEL_KEYS: Record<string, string[]> = {
  '#': keys<Snapshot>({ timestamp: true, monotonicSeconds: true, host: true, containers: true, notes: true }),
  host: keys<HostInfo>({
    hostname: true,
    kernel: true,
    cgroupMode: true,
    cpus: true,
    memoryBytes: true,
    memoryAvailableBytes: true,
    cpuUsageSeconds: true,
    cpuPercent: true,
    pressure: true,
    namespaceReference: true,
    v2Controllers: true,
    machineId: true,
    bootId: true,
    systemUuid: true,
    network: true,
  }),
  pressure: keys<Pressure>({ cpu: true, memory: true, io: true }),
  pressureResource: keys<PressureResource>({ some: true, full: true }),
  pressureLine: keys<PressureLine>({ avg10: true, avg60: true, avg300: true, totalSeconds: true }),
  container: keys<ContainerSnapshot>({
    id: true,
    name: true,
    runtime: true,
    containerId: true,
    image: true,
    kubernetes: true,
    labels: true,
    runtimeConfig: true,
    inode: true,
    populated: true,
    processes: true,
    initPid: true,
    startTimeSeconds: true,
    cpu: true,
    memory: true,
    io: true,
    pids: true,
    devices: true,
    hugetlb: true,
    freezer: true,
    pressure: true,
    namespaces: true,
    capabilities: true,
    network: true,
  }),
  kubernetes: keys<KubernetesInfo>({ pod: true, namespace: true, container: true, podUid: true }),
  runtimeConfig: keys<RuntimeConfig>({ memoryLimitBytes: true, cpus: true, pidsLimit: true, paused: true }),
  cpu: keys<CpuStats>({
    usageSeconds: true,
    userSeconds: true,
    systemSeconds: true,
    percent: true,
    quotaPercent: true,
    quotaCores: true,
    quotaMicroseconds: true,
    periodMicroseconds: true,
    shares: true,
    weight: true,
    periods: true,
    throttledPeriods: true,
    throttledSeconds: true,
    throttledPercent: true,
    cpus: true,
    mems: true,
  }),
  memory: keys<MemoryStats>({
    usageBytes: true,
    maxUsageBytes: true,
    workingSetBytes: true,
    anonBytes: true,
    fileBytes: true,
    inactiveFileBytes: true,
    mappedFileBytes: true,
    swapBytes: true,
    kernelBytes: true,
    limitBytes: true,
    highBytes: true,
    softLimitBytes: true,
    lowBytes: true,
    minBytes: true,
    swapLimitBytes: true,
    failcnt: true,
    pageFaults: true,
    majorPageFaults: true,
    oomKills: true,
    events: true,
  }),
  memoryEvents: keys<MemoryEvents>({ low: true, high: true, max: true, oom: true, oomKill: true }),
  io: keys<IoStats>({
    devices: true,
    limits: true,
    weight: true,
    readBytesPerSecond: true,
    writeBytesPerSecond: true,
  }),
  ioDevice: keys<IoDeviceStats>({
    major: true,
    minor: true,
    device: true,
    readBytes: true,
    writeBytes: true,
    readOps: true,
    writeOps: true,
    readBytesPerSecond: true,
    writeBytesPerSecond: true,
    readOpsPerSecond: true,
    writeOpsPerSecond: true,
  }),
  ioLimit: keys<IoLimit>({
    major: true,
    minor: true,
    device: true,
    readBps: true,
    writeBps: true,
    readIops: true,
    writeIops: true,
  }),
  pids: keys<PidsStats>({ current: true, limit: true, peak: true, limitHits: true }),
  devices: keys<DevicesStats>({ rules: true, note: true }),
  deviceRule: keys<DeviceRule>({ type: true, major: true, minor: true, access: true }),
  hugetlb: keys<HugetlbStats>({ pageSize: true, usageBytes: true, maxUsageBytes: true, limitBytes: true }),
  namespaces: keys<Namespaces>({
    cgroup: true,
    ipc: true,
    mnt: true,
    net: true,
    pid: true,
    time: true,
    user: true,
    uts: true,
  }),
  namespace: keys<NamespaceInfo>({ inode: true, isolated: true }),
  capabilities: keys<Capabilities>({ effective: true, permitted: true, bounding: true }),
  networkInterface: keys<NetworkInterface>({
    interface: true,
    rxBytes: true,
    rxPackets: true,
    rxErrors: true,
    rxDropped: true,
    txBytes: true,
    txPackets: true,
    txErrors: true,
    txDropped: true,
    rxBytesPerSecond: true,
    txBytesPerSecond: true,
  }),
};

function objectSchema(name: string): SchemaNode {
  const node = name === '#' ? schema : defs[name];
  if (!node) throw new Error(`schema has no $defs/${name}`);
  return node;
}

const sorted = (a: Iterable<string>): string[] => [...a].sort();

const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
const validate = ajv.compile(schema);

function errorsOf(doc: unknown): string[] {
  if (validate(doc)) return [];
  // A nullable object is anyOf [shape, null]: keep the shape's own errors, drop the null branch's and anyOf's.
  const nullBranch = /\/anyOf\/\d+\/type$/;
  return (validate.errors ?? [])
    .filter((e: ErrorObject) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && nullBranch.test(e.schemaPath)))
    .map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
}

/** Validates the snapshot object (NaN, Infinity and undefined fail here) and the JSON text the CLI prints. */
function expectValid(s: Snapshot, what: string, containers: ContainerSnapshot[] = s.containers): void {
  expect(errorsOf(s), `${what} (object)`).toEqual([]);
  const printed = snapshotJson(s, containers);
  expect(printed.endsWith('\n') && !printed.slice(0, -1).includes('\n'), 'one line per document').toBe(true);
  expect(errorsOf(JSON.parse(printed)), `${what} (printed JSON)`).toEqual([]);
}

/** The top-level and per-container key lists equal the schema's property lists. */
function expectSameKeys(s: Snapshot): void {
  expect(sorted(Object.keys(s))).toEqual(sorted(Object.keys(schema.properties ?? {})));
  const containerKeys = sorted(Object.keys(defs.container.properties ?? {}));
  for (const c of s.containers) expect(sorted(Object.keys(c)), c.id).toEqual(containerKeys);
}

/** Names of the $defs object shapes that data instantiates with a non-null value. */
function shapesUsed(node: SchemaNode, data: unknown, seen: Set<string>): void {
  if (data === null || data === undefined) return;
  if (node.$ref) {
    const name = node.$ref.replace('#/$defs/', '');
    seen.add(name);
    shapesUsed(defs[name], data, seen);
    return;
  }
  if (node.anyOf) {
    for (const branch of node.anyOf) if (branch.type !== 'null') shapesUsed(branch, data, seen);
    return;
  }
  if (Array.isArray(data)) {
    if (node.items) for (const x of data) shapesUsed(node.items, x, seen);
    return;
  }
  if (typeof data === 'object' && node.properties) {
    for (const [k, sub] of Object.entries(node.properties)) shapesUsed(sub, (data as Record<string, unknown>)[k], seen);
  }
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('docs/snapshot.schema.json against the TypeScript model', () => {
  it('is a valid draft 2020-12 schema that compiles in strict mode', () => {
    expect(schema).toHaveProperty('$schema', 'https://json-schema.org/draft/2020-12/schema');
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it('has one object shape per model type, with exactly the model keys, all required, nothing else allowed', () => {
    expect(sorted(['#', ...Object.keys(defs)])).toEqual(sorted(Object.keys(MODEL_KEYS)));
    for (const [name, modelKeys] of Object.entries(MODEL_KEYS)) {
      const node = objectSchema(name);
      expect(node.type, name).toBe('object');
      expect(node.additionalProperties, `${name}.additionalProperties`).toBe(false);
      expect(sorted(Object.keys(node.properties ?? {})), `${name} properties`).toEqual(sorted(modelKeys));
      expect(sorted(node.required ?? []), `${name} required`).toEqual(sorted(modelKeys));
    }
  });

  it('describes every property and every shape', () => {
    const undescribed: string[] = [];
    for (const name of Object.keys(MODEL_KEYS)) {
      const node = objectSchema(name);
      if ((node.description ?? '').length < 20) undescribed.push(name);
      for (const [k, p] of Object.entries(node.properties ?? {}))
        if ((p.description ?? '').length < 20) undescribed.push(`${name}.${k}`);
    }
    expect(undescribed).toEqual([]);
  });

  it('lists the same enum members as the model', () => {
    const enumOf = (def: string, prop: string): Json[] => objectSchema(def).properties?.[prop]?.enum ?? [];
    expect(enumOf('container', 'runtime')).toEqual([...RUNTIMES]);
    expect(sorted(enumOf('host', 'cgroupMode') as string[])).toEqual(
      sorted(members<CgroupMode>({ v1: true, v2: true, hybrid: true })),
    );
    expect(enumOf('container', 'freezer')).toEqual([
      ...members<FreezerState>({ thawed: true, freezing: true, frozen: true }),
      null,
    ]);
    expect(enumOf('deviceRule', 'type')).toEqual(members<DeviceRule['type']>({ a: true, b: true, c: true }));
    expect(enumOf('host', 'namespaceReference')).toEqual([
      ...members<NonNullable<HostInfo['namespaceReference']>>({ '/proc/1/ns': true, '/proc/self/ns': true }),
      null,
    ]);
    expect(defs.namespaces.propertyNames?.enum).toEqual([...NAMESPACE_TYPES]);
    expect(Object.keys(defs.namespaces.properties ?? {})).toEqual([...NAMESPACE_TYPES]);
  });
});

describe('fixture host snapshots validate against the schema', () => {
  const used = new Set<string>();

  for (const tree of ['v1', 'v2', 'hybrid']) {
    describe(tree, () => {
      const collector = new Collector({
        root: path.join(HOSTS, tree),
        dockerRoot: path.join(HOSTS, tree, 'var/lib/docker'),
      });
      const first = collector.collect();
      const second = collector.collect();
      collector.close();
      shapesUsed(schema, clone(second), used);

      it('validates the first snapshot, whose rates are all null', () => {
        expectValid(first, `${tree} first`);
        expect(first.host.cpuPercent).toBeNull();
        for (const c of first.containers) {
          expect(c.cpu?.percent ?? null, c.id).toBeNull();
          expect(c.cpu?.throttledPercent ?? null, c.id).toBeNull();
          expect(c.io?.readBytesPerSecond ?? null, c.id).toBeNull();
          for (const d of c.io?.devices ?? []) expect(d.readBytesPerSecond, c.id).toBeNull();
          for (const i of c.network ?? []) expect(i.rxBytesPerSecond, c.id).toBeNull();
        }
      });

      it('validates the second snapshot, whose rates are numbers (0: fixture files do not change)', () => {
        expectValid(second, `${tree} second`);
        expect(second.host.cpuPercent).toBe(0);
        let rates = 0;
        for (const c of second.containers) {
          if (c.cpu?.usageSeconds != null) {
            expect(c.cpu.percent, c.id).toBe(0);
            rates++;
          }
          if (c.cpu?.periods != null) expect(c.cpu.throttledPercent, c.id).toBe(0);
          if (c.cpu?.quotaCores) expect(c.cpu.quotaPercent, c.id).toBe(0);
          if (c.io) expect([c.io.readBytesPerSecond, c.io.writeBytesPerSecond], c.id).toEqual([0, 0]);
          for (const d of c.io?.devices ?? [])
            expect([d.readBytesPerSecond, d.writeBytesPerSecond, d.readOpsPerSecond, d.writeOpsPerSecond]).toEqual([
              0, 0, 0, 0,
            ]);
          for (const i of c.network ?? []) expect([i.rxBytesPerSecond, i.txBytesPerSecond]).toEqual([0, 0]);
        }
        expect(rates).toBeGreaterThan(0);
      });

      it('validates the document the CLI prints (selected and sorted containers)', () => {
        const shown = selectContainers(second.containers, {}).sort(byCpuThenMemory);
        expect(shown.length).toBeGreaterThan(0);
        expectValid(second, `${tree} selected`, shown);
      });

      it('has exactly the schema keys at the top level and in every container', () => {
        expectSameKeys(second);
      });
    });
  }

  it('exercise every object shape of the schema between them', () => {
    expect(sorted(used)).toEqual(sorted(Object.keys(defs)));
  });
});

describe('the schema rejects documents that drift from the model', () => {
  const collector = new Collector({ root: path.join(HOSTS, 'v2') });
  collector.collect();
  const good = clone(collector.collect());
  collector.close();
  const docker = good.containers.findIndex((c) => c.runtime === 'docker');

  it('starts from a valid document', () => {
    expect(docker).toBeGreaterThanOrEqual(0);
    expect(errorsOf(good)).toEqual([]);
  });

  it('rejects an unknown field in a nested object', () => {
    const doc = clone(good) as unknown as { containers: { memory: Record<string, unknown> }[] };
    doc.containers[docker].memory.rssBytes = 1;
    expect(errorsOf(doc)).toEqual([`/containers/${docker}/memory must NOT have additional properties`]);
  });

  it('rejects a missing field', () => {
    const doc = clone(good) as unknown as { host: Record<string, unknown> };
    delete doc.host.cpuPercent;
    expect(errorsOf(doc)).toEqual(["/host must have required property 'cpuPercent'"]);
  });

  it('rejects a kernel "max" or sentinel where null means unlimited, and an unknown runtime', () => {
    const doc = clone(good) as unknown as { containers: Record<string, Record<string, unknown> | string>[] };
    (doc.containers[docker].memory as Record<string, unknown>).limitBytes = 'max';
    (doc.containers[docker].cpu as Record<string, unknown>).quotaMicroseconds = -1;
    doc.containers[docker].runtime = 'rkt';
    expect(errorsOf(doc)).toEqual([
      `/containers/${docker}/runtime must be equal to one of the allowed values`,
      `/containers/${docker}/cpu/quotaMicroseconds must be >= 0`,
      `/containers/${docker}/memory/limitBytes must be integer,null`,
    ]);
  });

  it('rejects NaN in the object before JSON.stringify would turn it into null', () => {
    const doc = clone(good);
    doc.containers[docker].cpu!.percent = NaN;
    expect(errorsOf(doc)).toEqual([`/containers/${docker}/cpu/percent must be number,null`]);
  });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.getuid?.() === 0)("this host's snapshot validates against the schema", () => {
  let cg: TestCgroups;
  let collector: Collector;
  let busyId: string;
  let nsId: string;

  beforeAll(async () => {
    cg = new TestCgroups('schema');
    // A quota-limited busy loop (cpu rates, quota, throttling) and a process in
    // its own network namespace (namespaces, network), so the real snapshot
    // holds more than the machine's idle cgroups.
    busyId = cg.mkdir('busy');
    cpuQuota(cg, 'busy', 0.5);
    await cg.spawn('busy', ['spin']).ready;
    nsId = cg.mkdir('ns');
    await cg.spawn('ns', ['sleep'], { wrap: ['unshare', '--net', '--'] }).ready;
    collector = new Collector();
  });

  afterAll(async () => {
    collector?.close();
    await cg?.cleanup();
  });

  it('validates a first snapshot and one with rates, 300 ms later', async () => {
    const find = (s: Snapshot, id: string): ContainerSnapshot => {
      const c = s.containers.find((x) => x.id === id);
      if (!c) throw new Error(`${id} not in the snapshot`);
      return c;
    };
    const first = collector.collect();
    expectValid(first, 'first');
    expect(first.host.cpuPercent).toBeNull();
    expect(find(first, busyId).cpu?.percent).toBeNull();
    expect(find(first, nsId).namespaces?.net?.isolated).toBe(true);
    expect(find(first, nsId).network?.map((i) => [i.interface, i.rxBytesPerSecond])).toEqual([['lo', null]]);

    await sleep(300);
    const second = collector.collect();
    expectValid(second, 'second');
    const shown = selectContainers(second.containers, {}).sort(byCpuThenMemory);
    expectValid(second, 'second, selected', shown);
    expectSameKeys(second);

    expect(second.host.cpuPercent).toBeGreaterThan(0);
    const busy = find(second, busyId).cpu!;
    expect(busy.quotaCores).toBe(0.5);
    expect(busy.percent).toBeGreaterThan(0);
    expect(busy.quotaPercent).toBeCloseTo(busy.percent! / 0.5, 6);
    expect(busy.throttledPercent).toBeGreaterThanOrEqual(0);
    const ns = find(second, nsId);
    expect(ns.namespaces?.net?.isolated).toBe(true);
    expect(ns.network?.map((i) => [i.interface, i.rxBytesPerSecond, i.txBytesPerSecond])).toEqual([['lo', 0, 0]]);
  });
});
