// The audit log as an attack surface (issue 11, item 4): recovery acts on
// the log's pending records, so a log (or directory) that someone else owns
// or may write is refused, and a recovered write meets the policy a new
// write would: a forged pending record aimed at a cgroup that is not a
// container changes nothing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { latestChanges, parseAuditText } from '../../src/limiter/audit.js';
import { TestCgroups } from '../helpers/cgroups.js';
import { limitEnv, runTstop } from '../helpers/limit.js';

const isRoot = process.getuid?.() === 0;
const DEAD_PID = 4_194_304; // above PID_MAX_LIMIT: never a live process

describe.runIf(isRoot)('the audit log is trusted only when private', () => {
  let cg: TestCgroups;
  let container: string;
  let plain: string;
  const cid = `docker-${'e'.repeat(64)}.scope`;

  beforeAll(() => {
    cg = new TestCgroups('auditpolicy');
    container = cg.mkdir(cid);
    plain = cg.mkdir('plain');
  });

  afterAll(async () => {
    await cg?.cleanup();
  });

  const pidsMax = (rel: string): string => cg.read('pids', rel, 'pids.max').trim();

  function forged(
    target: { id: string; name: string },
    file: string,
    oldValue: string,
    newValue: string,
  ): ChangeRecord {
    return {
      type: 'change',
      v: 1,
      id: 'f0f0f0f0f0f0',
      time: new Date().toISOString(),
      host: os.hostname(),
      uid: 0,
      user: 'root',
      sudoUser: null,
      pid: DEAD_PID,
      pidStart: 1,
      via: 'cli',
      remoteAddress: null,
      action: 'limit',
      undoes: null,
      container: target,
      writes: [{ path: file, oldValue, newValue }],
      signal: null,
      pids: null,
      result: 'pending',
      error: null,
      notes: [],
    };
  }

  /** A fresh private directory with an audit log holding the given records. */
  function logWith(records: ChangeRecord[]): string {
    const dir = fs.mkdtempSync(path.join(cg.tmp(''), 'log-'));
    const file = path.join(dir, 'audit.jsonl');
    fs.writeFileSync(file, records.map((r) => JSON.stringify(r) + '\n').join(''), { mode: 0o600 });
    return file;
  }

  const plainPids = (): string => path.join(cg.controllerDir('pids', 'plain'), 'pids.max');

  it('refuses a world-writable log, a group-writable directory and a log another user owns; nothing changes', async () => {
    const cases: [string, (file: string) => void, (file: string) => string][] = [
      [
        'world-writable log',
        (f) => fs.chmodSync(f, 0o666),
        (f) =>
          `refusing the audit log ${f}: it is writable by its group and others (mode 0666); chmod go-w it; nothing was changed`,
      ],
      [
        'group-writable directory',
        (f) => fs.chmodSync(path.dirname(f), 0o770),
        (f) =>
          `refusing the audit log's directory ${path.dirname(f)}: it is writable by its group (mode 0770); chmod go-w it; nothing was changed`,
      ],
      [
        'log owned by another user',
        (f) => fs.chownSync(f, 65534, 65534),
        (f) =>
          `refusing the audit log ${f}: it is owned by uid 65534, not by uid 0 who runs tstop; nothing was changed`,
      ],
    ];
    for (const [what, spoil, message] of cases) {
      // The log holds a forged record that would lift the plain cgroup's limit if trusted.
      const file = logWith([forged({ id: container, name: cid }, plainPids(), '13', pidsMax('plain'))]);
      spoil(file);
      const before = fs.readFileSync(file, 'utf8');
      const env = limitEnv(cg, file);
      const r = await runTstop(['limit', container, '--pids-limit', '22'], env);
      expect([what, r.code, r.stderr]).toEqual([what, 2, `tstop: limit: ${message(file)}\n`]);
      const h = await runTstop(['limit', 'history'], env);
      expect([what, h.code, h.stderr]).toEqual([what, 2, `tstop: limit: ${message(file)}\n`]);
      expect(fs.readFileSync(file, 'utf8')).toBe(before);
      expect(pidsMax(cid)).toBe('max');
      expect(pidsMax('plain')).toBe('max');
    }
  });

  it('a forged pending record naming a cgroup that is not a container changes nothing', async () => {
    const file = logWith([forged({ id: plain, name: 'plain' }, plainPids(), '13', pidsMax('plain'))]);
    const env = limitEnv(cg, file);
    // An unrelated change to a container first recovers dead processes' records: not this one.
    const r = await runTstop(['limit', container, '--pids-limit', '23'], env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(pidsMax(cid)).toBe('23');
    expect(pidsMax('plain')).toBe('max');
    const rec = await runTstop(['limit', 'recover'], env);
    expect(rec.code).toBe(0);
    expect(rec.stdout).toBe(
      `no interrupted changes restored\nleft pending: f0f0f0f0f0f0: refusing 'plain' (${plain}): it is a cgroup no container runtime created, not a container; pass --allow-system to change it anyway\n`,
    );
    expect(pidsMax('plain')).toBe('max');
    const state = latestChanges(parseAuditText(fs.readFileSync(file, 'utf8')).lines);
    expect(state.find((c) => c.id === 'f0f0f0f0f0f0')?.result).toBe('pending');
  });

  it("a forged record naming a container but writing another cgroup's file changes nothing there", async () => {
    const file = logWith([forged({ id: container, name: cid }, plainPids(), '13', pidsMax('plain'))]);
    const env = limitEnv(cg, file);
    const rec = await runTstop(['limit', 'recover', '--json'], env);
    expect([rec.code, JSON.parse(rec.stdout)]).toEqual([0, { recovered: ['f0f0f0f0f0f0'], skipped: [] }]);
    expect(pidsMax('plain')).toBe('max');
    const state = latestChanges(parseAuditText(fs.readFileSync(file, 'utf8')).lines);
    const done = state.find((c) => c.id === 'f0f0f0f0f0f0');
    expect(done?.result).toBe('interrupted');
    expect(done?.notes.at(-1)).toBe(
      `process ${DEAD_PID} died before confirming this change; no file held its new value; left alone: ${plainPids()} (not a file of ${container}, the record's cgroup)`,
    );
  });
});
