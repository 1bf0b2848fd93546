// The collectors against fixture trees of hosts no kernel here produces (pure
// v2, systemd hybrid, old pure v1), read through --root exactly as a
// monitoring container reads a host mounted at /host. Expected values are in
// each tree's expected.json (see test/fixtures/hosts/README.md).

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../src/collect/collector.js';

const HOSTS = path.resolve(__dirname, '../fixtures/hosts');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep partial match: every key of expected must match; fractional numbers to 6 places. */
function expectMatch(actual: unknown, expected: Json, where: string): void {
  if (expected === null || typeof expected !== 'object') {
    if (typeof expected === 'number' && typeof actual === 'number' && !Number.isInteger(expected)) {
      expect(actual, where).toBeCloseTo(expected, 6);
    } else expect(actual, where).toEqual(expected);
    return;
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${where} is an array`).toBe(true);
    const a = actual as unknown[];
    expect(a.length, `${where}.length`).toBe(expected.length);
    expected.forEach((e, i) => expectMatch(a[i], e, `${where}[${i}]`));
    return;
  }
  expect(actual, `${where} is present`).not.toBeNull();
  expect(typeof actual, `${where} is an object`).toBe('object');
  for (const [k, v] of Object.entries(expected))
    expectMatch((actual as Record<string, unknown>)[k], v, `${where}.${k}`);
}

const byDevice = (a: { major: number; minor: number }, b: { major: number; minor: number }): number =>
  a.major - b.major || a.minor - b.minor;

for (const tree of ['v2', 'hybrid', 'v1']) {
  describe(`fixture host: ${tree}`, () => {
    const root = path.join(HOSTS, tree);
    const expected = JSON.parse(fs.readFileSync(path.join(root, 'expected.json'), 'utf8')) as {
      host: Json;
      allCgroupPaths: string[];
      cgroups: Record<string, Json>;
    };
    const collector = new Collector({ root });
    const snapshot = collector.collect();
    collector.close();

    it('reads the host', () => {
      expectMatch(snapshot.host, expected.host, 'host');
    });

    it('finds every cgroup in every hierarchy', () => {
      expect(snapshot.containers.map((c) => c.id).sort()).toEqual([...expected.allCgroupPaths].sort());
    });

    for (const [id, want] of Object.entries(expected.cgroups)) {
      it(`collects ${id}`, () => {
        const c = snapshot.containers.find((x) => x.id === id);
        expect(c, id).toBeDefined();
        c!.io?.devices.sort(byDevice);
        c!.io?.limits.sort(byDevice);
        // `detail` holds figures beyond the model (raw file values) for other readers.
        const { detail: _detail, ...modelFields } = want as Record<string, Json>;
        expectMatch(c, modelFields, id);
      });
    }
  });
}
