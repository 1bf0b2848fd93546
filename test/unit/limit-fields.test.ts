// The limit-field table is the one place the fields are spelled: the CLI's
// flags, the write API's JSON keys and the dashboard form derive from it.
import { describe, expect, it } from 'vitest';
import { limitCommand } from '../../src/cli/commands/limit.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { limitRequestFromFlags } from '../../src/cli/limit-request.js';
import type { LimitRequest } from '../../src/limiter/api.js';
import { LIMIT_FIELDS, LIST_KEYS, REQUEST_KEYS, flagOf } from '../../src/limiter/fields.js';
import { createLimitForm } from '../../ui/view/form.js';
import { sampleContainer } from '../../src/model/samples.js';

// Every LimitRequest field, type-checked: a new field that is not here fails to compile.
const EVERY_FIELD: Required<LimitRequest> = {
  memory: '1g',
  memoryReservation: '1',
  memoryHigh: '1',
  memorySwap: '1',
  cpus: '1',
  cpuShares: '1',
  cpuWeight: '1',
  cpusetCpus: '0',
  cpusetMems: '0',
  pidsLimit: '1',
  blkioWeight: '1',
  deviceReadBps: [],
  deviceWriteBps: [],
  deviceReadIops: [],
  deviceWriteIops: [],
  deviceAllow: [],
  deviceDeny: [],
};

describe('the limit-field table', () => {
  it('has one row per LimitRequest field, lists exactly the array fields as repeatable', () => {
    expect([...REQUEST_KEYS].sort()).toEqual(Object.keys(EVERY_FIELD).sort());
    expect([...LIST_KEYS].sort()).toEqual(
      Object.entries(EVERY_FIELD)
        .filter(([, v]) => Array.isArray(v))
        .map(([k]) => k)
        .sort(),
    );
  });

  it('gives tstop limit and tstop run the same flags, named as docker names them', () => {
    const limitFlags = limitCommand.flags.map((f) => f.name);
    const runFlags = runCommand.flags.map((f) => f.name);
    for (const f of LIMIT_FIELDS) {
      expect(limitFlags).toContain(f.flag);
      expect(runFlags).toContain(f.flag);
    }
    expect(flagOf('pidsLimit')).toBe('--pids-limit');
    expect(flagOf('cpusetCpus')).toBe('--cpuset-cpus');
  });

  it('reads the flags into a request by the table', () => {
    expect(limitRequestFromFlags({ memory: '512m', 'pids-limit': '-1', 'device-read-bps': ['/dev/sda:1m'] })).toEqual({
      memory: '512m',
      pidsLimit: '-1',
      deviceReadBps: ['/dev/sda:1m'],
    });
  });

  it('names the dashboard form fields by the same flags', () => {
    const form = createLimitForm(sampleContainer({ id: 'web1' }), 'web');
    for (const f of form.fields) {
      if (f.kind === 'text') expect(f.flag).toBe(f.key === 'for' ? '--for' : flagOf(f.key));
    }
  });
});
