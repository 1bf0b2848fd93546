// The fleet dashboard's routing of `l`: row id → instance and cgroup path,
// the --write-api template → the node's URL, and refused templates.

import { describe, expect, it } from 'vitest';
import { fleetId, parseFleetId } from '../../src/fleet/mapping.js';
import { checkWriteApiTemplate, FleetWriteLimiter, writeApiUrl } from '../../src/fleet/write-api.js';
import { LimitError } from '../../src/limiter/api.js';

describe('fleet write API routing', () => {
  it('parses a fleet row id back into its instance and cgroup path, / in the label included', () => {
    for (const [instance, path] of [
      ['node-1:9338', '/docker/abc'],
      ['10.0.0.5:9338', '/'],
      ['https://a/b%c', '/system.slice/x.service'],
    ]) {
      expect(parseFleetId(fleetId(instance, path))).toEqual({ instance, path });
    }
    expect(parseFleetId('not-a-fleet-id')).toBeNull();
  });

  it('fills {instance} and {host} into the template', () => {
    expect(writeApiUrl('https://{instance}', 'node-1:9338')).toBe('https://node-1:9338');
    expect(writeApiUrl('https://{host}:9443/tstop', 'node-1:9338')).toBe('https://node-1:9443/tstop');
  });

  it('refuses templates without a placeholder or not http(s)', () => {
    expect(() => checkWriteApiTemplate('https://node:9338')).toThrow(/names no \{instance\} or \{host\}/);
    expect(() => checkWriteApiTemplate('ftp://{instance}')).toThrow(/not an http or https URL/);
    expect(() => checkWriteApiTemplate('https://{instance}')).not.toThrow();
  });

  it('refuses freeze and signals, which the write API does not offer', async () => {
    const limiter = new FleetWriteLimiter({ template: 'https://{instance}', token: 'x'.repeat(20) });
    await expect(limiter.setFrozen()).rejects.toThrow(/tstop freeze/);
    await expect(limiter.kill()).rejects.toBeInstanceOf(LimitError);
    await expect(limiter.plan('nope', { memory: '1g' })).rejects.toThrow(/is not a fleet row/);
  });
});
