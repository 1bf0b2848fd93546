// src/launcher/seccomp.ts: Docker-format profiles checked and reduced to the helper's records.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compileSeccomp,
  defaultProfilePath,
  kernelRelease,
  loadSeccomp,
  prepareSeccomp,
  readProfile,
  SeccompProfileError,
} from '../../src/launcher/seccomp.js';
import { capabilityNumber, resolveCapabilities } from '../../src/launcher/spec.js';

const HOST = { arch: 'x64', kernel: '6.1.0-18-amd64' };
const DOCKER = resolveCapabilities();
const rulesFor = (name: string, rules: string[]): string[] => rules.filter((r) => r.split(' ')[0] === name);

describe('seccomp profiles', () => {
  const def = readProfile(defaultProfilePath());

  it('the default profile: EPERM by default, x86_64 with its 32-bit ABIs, conditional rules by capability', () => {
    const c = compileSeccomp(def, DOCKER, HOST);
    expect(c.defaultAction).toBe('errno:1');
    expect(c.arches).toEqual(['x86_64', 'x86']); // x32 left out: its syscalls are killed by the x86_64 filter
    for (const denied of [
      'keyctl',
      'add_key',
      'request_key',
      'userfaultfd',
      'io_uring_setup',
      'perf_event_open',
      'unshare',
      'mount',
      'setns',
      'kexec_load',
    ]) {
      expect(rulesFor(denied, c.rules), denied).toEqual([]);
    }
    // clone only without namespace flags; clone3 says ENOSYS so libc falls back to clone
    expect(rulesFor('clone', c.rules)).toEqual(['clone allow 0:masked_eq:2114060288:0']);
    expect(rulesFor('clone3', c.rules)).toEqual(['clone3 errno:38']);
    // several conditions on one index are alternatives
    expect(rulesFor('personality', c.rules)).toHaveLength(5);
    expect(rulesFor('personality', c.rules)).toContain('personality allow 0:eq:4294967295:0');
    expect(rulesFor('arch_prctl', c.rules)).toEqual(['arch_prctl allow']);
    expect(rulesFor('ptrace', c.rules)).toEqual(['ptrace allow']); // minKernel 4.8
    expect(rulesFor('ptrace', compileSeccomp(def, DOCKER, { ...HOST, kernel: '4.4.0' }).rules)).toEqual([]);
  });

  it('CAP_SYS_ADMIN brings the namespace and mount calls and drops the clone restrictions', () => {
    const c = compileSeccomp(def, [...DOCKER, capabilityNumber('SYS_ADMIN')], HOST);
    expect(rulesFor('unshare', c.rules)).toEqual(['unshare allow']);
    expect(rulesFor('clone', c.rules)).toEqual(['clone allow']);
    expect(rulesFor('clone3', c.rules)).toEqual(['clone3 allow']);
  });

  it("the host's kernel release (minKernel rules) is os.release(), read without loading node:os", () => {
    expect(kernelRelease()).toBe(os.release());
    expect(compileSeccomp(def, DOCKER)).toEqual(
      compileSeccomp(def, DOCKER, { arch: process.arch, kernel: os.release() }),
    );
  });

  it('names the field of a malformed profile', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /expected a JSON object/],
      [{ defaultAction: 'SCMP_ACT_NOPE' }, /defaultAction: unknown action "SCMP_ACT_NOPE"/],
      [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'] }] }, /syscalls\[0\]\.action: unknown action/],
      [
        {
          defaultAction: 'SCMP_ACT_ERRNO',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 7, op: 'SCMP_CMP_EQ', value: 1 }] }],
        },
        /args\[0\]\.index: expected 0-5/,
      ],
      [
        {
          defaultAction: 'SCMP_ACT_ERRNO',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'LIKE', value: 1 }] }],
        },
        /args\[0\]\.op: unknown operator "LIKE"/,
      ],
      [
        { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['Read!'], action: 'SCMP_ACT_ALLOW' }] },
        /invalid syscall name "Read!"/,
      ],
      [
        {
          defaultAction: 'SCMP_ACT_ERRNO',
          syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_NOPE'] } }],
        },
        /unknown capability "CAP_NOPE"/,
      ],
      [{ defaultAction: 'SCMP_ACT_ERRNO', listenerPath: '/x' }, /unknown field "listenerPath"/],
      [{ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 'x' }, /defaultErrnoRet: expected an errno/],
    ];
    for (const [profile, message] of bad) {
      expect(() => compileSeccomp(profile, DOCKER, HOST)).toThrow(SeccompProfileError);
      expect(() => compileSeccomp(profile, DOCKER, HOST)).toThrow(message);
    }
  });

  it('loads unconfined as no filter, and reports an unreadable or non-JSON file', () => {
    expect(loadSeccomp('unconfined', DOCKER)).toBeNull();
    expect(() => loadSeccomp('/nonexistent/p.json', DOCKER)).toThrow(/seccomp profile \/nonexistent\/p.json: ENOENT/);
    expect(new SeccompProfileError('x').exitCode).toBe(125);
  });

  it('the default profile prepared at build time (the bundle) reduces to the same filter as the file', () => {
    const bundleDir = path.resolve(import.meta.dirname, '../../dist/launch');
    const runChunk = fs.readdirSync(bundleDir).find((f) => /^tstop-launch-run-[\w-]+\.cjs$/.test(f));
    if (runChunk === undefined) throw new Error('no launcher bundle: npm run build');
    // The build's copy, read at launch instead of the profile (src/launcher/seccomp-default.ts).
    expect(fs.readFileSync(path.join(bundleDir, runChunk), 'utf8')).toMatch(
      /__dirname \+ ["']\/seccomp-default\.json["']/,
    );
    const prepared = JSON.parse(fs.readFileSync(path.join(bundleDir, 'seccomp-default.json'), 'utf8')) as unknown;
    expect(prepared).toEqual(prepareSeccomp(def));
    const bundled = createRequire(import.meta.url)(path.join(bundleDir, runChunk)) as {
      loadSeccomp: typeof loadSeccomp;
    };
    const sysAdmin = [...DOCKER, capabilityNumber('SYS_ADMIN')];
    for (const caps of [DOCKER, sysAdmin, []]) {
      const fromFile = compileSeccomp(def, caps);
      expect(bundled.loadSeccomp(undefined, caps)).toEqual(fromFile);
      expect(loadSeccomp(undefined, caps)).toEqual(fromFile); // without the bundle: prepared from the file
    }
  });
});
