// native/src/owner.c on its own: the helper run with the keys of a
// foreground container it owns (state_file=, state_json=, owner_remove=,
// auto_remove=), as tstop execs it (src/launcher/exec-in-place.ts), here
// spawned directly with the spec on fd 3 and a real cgroup of the test's.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerStateJson } from '../../src/launcher/exec-in-place.js';
import { serializeSpec, SpecError, type RunSpec } from '../../src/launcher/spec.js';
import type { ContainerState } from '../../src/launcher/state.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { CONTAINER_NS, ensureHelper, HELPER, isRoot, runSpec } from './harness.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const state = (name: string): ContainerState => ({
  version: 1,
  name,
  image: null,
  pid: null,
  pidStart: null,
  cgroup: `/x/${name}`,
  command: ['sh', '-c', 'say "hi"\n\u0001'],
  created: '2026-12-07T00:00:00.000Z',
  started: null,
  finished: null,
  status: 'created',
  exitCode: null,
  error: null,
  oomKills: null,
  limits: {},
  hostname: name,
  network: 'none',
  userns: null,
  capabilities: [0, 1],
  noNewPrivs: true,
  init: false,
  autoRemove: false,
  detached: false,
  helper: { pid: 1, start: 2 },
  owner: { pid: 1, start: 2 },
});

describe('ownerStateJson and the owner keys of a spec', () => {
  it('is the state without the fields the helper writes, and without its closing brace', () => {
    const json = ownerStateJson(state('a'));
    expect(() => JSON.parse(json) as unknown).toThrow();
    const parsed = JSON.parse(`${json}}`) as Record<string, unknown>;
    for (const k of ['pid', 'pidStart', 'started', 'finished', 'status', 'exitCode', 'error', 'oomKills']) {
      expect(parsed).not.toHaveProperty(k);
    }
    expect(parsed.command).toEqual(['sh', '-c', 'say "hi"\n\u0001']);
  });

  it('refuses owner keys with a log, a restart policy or a report fd, and a state_json that is closed', () => {
    const owner = {
      stateFile: '/r/a.json',
      stateJson: '{"a":1',
      oomFile: null,
      remove: [],
      autoRemove: false,
      stdinNull: true,
    };
    const spec = runSpec({ argv: ['true'], owner });
    expect(() => serializeSpec({ ...spec, reportFd: 4 })).toThrow(SpecError);
    expect(() => serializeSpec({ ...spec, log: { path: '/r/a.log', maxBytes: 1, maxFiles: 1 } })).toThrow(SpecError);
    expect(() => serializeSpec({ ...spec, owner: { ...owner, stateJson: '{"a":1}' } })).toThrow(SpecError);
    expect(() => serializeSpec({ ...spec, owner: { ...owner, stateFile: 'a.json' } })).toThrow(SpecError);
  });
});

describe.runIf(isRoot)('the helper as the owner of a foreground container', () => {
  let cg: TestCgroups;
  let dir: string;
  beforeAll(() => {
    ensureHelper();
    cg = new TestCgroups('owner');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tstop-owner-'));
  });
  afterAll(async () => {
    await cg?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The helper on a spec of this container, its cgroup made in every hierarchy; the spec on fd 3. */
  function run(
    name: string,
    argv: string[],
    extra: Partial<NonNullable<RunSpec['owner']>> = {},
    specExtra: Partial<RunSpec> = {},
  ): { r: ReturnType<typeof spawnSync>; dirs: string[]; file: string } {
    cg.mkdir(name);
    const dirs = cg.hierarchies.map((h) => cg.dir(h, name));
    const st = state(name);
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(st));
    fs.writeFileSync(path.join(dir, `${name}.stop`), '');
    const spec = runSpec({
      argv,
      ...specExtra,
      cgroupProcs: dirs.map((d) => path.join(d, 'cgroup.procs')),
      owner: {
        stateFile: path.join(dir, `${name}.json`),
        stateJson: ownerStateJson(st),
        oomFile: null,
        remove: [path.join(dir, `${name}.stop`)],
        autoRemove: false,
        stdinNull: true,
        ...extra,
      },
    });
    const options = withSpec(spec);
    const r = spawnSync(HELPER, [], options);
    fs.closeSync(options.stdio[3]);
    return { r, dirs, file: path.join(dir, `${name}.json`) };
  }
  const withSpec = (spec: RunSpec): { stdio: ['ignore', 'pipe', 'pipe', number] } => {
    const file = path.join(dir, `spec-${Math.random()}`);
    fs.writeFileSync(file, serializeSpec(spec));
    const fd = fs.openSync(file, 'r');
    fs.unlinkSync(file);
    return { stdio: ['ignore', 'pipe', 'pipe', fd] as ['ignore', 'pipe', 'pipe', number] };
  };

  it('writes the exited state (code, pid, times) after the workload, removes the cgroup, keeps the other files', () => {
    const { r, dirs, file } = run('ended', ['sh', '-c', 'exit 3']);
    expect(r.status).toBe(3);
    const st = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(st).toMatchObject({
      name: 'ended',
      status: 'exited',
      exitCode: 3,
      error: null,
      oomKills: null,
      finished: expect.stringMatching(ISO),
      started: expect.stringMatching(ISO),
    });
    expect(st.command).toEqual(['sh', '-c', 'say "hi"\n\u0001']);
    expect(typeof st.pid).toBe('number');
    expect(typeof st.pidStart).toBe('number');
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'ended.stop'))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('auto_remove: the state and the listed files go with the cgroup', () => {
    const { r, dirs, file } = run('gone', ['true'], { autoRemove: true });
    expect(r.status).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'gone.stop'))).toBe(false);
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
  });

  it("a failure in the helper's own process before the start (the kernel refuses the uid map) leaves nothing either", () => {
    const { r, dirs, file } = run(
      'mapfail',
      ['true'],
      {},
      {
        namespaces: [...CONTAINER_NS, 'user'],
        // Overlapping ranges inside: the kernel's EINVAL, in the helper itself (write_id_maps), after the clone.
        uidMap: [
          { inside: 0, outside: 100000, count: 10 },
          { inside: 5, outside: 200000, count: 10 },
        ],
        gidMap: [{ inside: 0, outside: 100000, count: 10 }],
      },
    );
    expect(r.status).toBe(125);
    expect(r.stderr.toString()).toMatch(/write \/proc\/\d+\/uid_map/);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'mapfail.stop'))).toBe(false);
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false); // the waiting child killed, the cgroup removed
  });

  it('a workload that never started (exec failed) leaves no state and no cgroup', () => {
    const { r, dirs, file } = run('failed', ['/no/such/binary']);
    expect(r.status).toBe(127);
    expect(r.stderr.toString()).toMatch(/execve\(\/no\/such\/binary\): No such file or directory/);
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'failed.stop'))).toBe(false);
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
  });
});
