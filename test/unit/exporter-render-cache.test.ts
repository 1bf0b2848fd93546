// The render cache (src/exporter/render-cache.ts): what it writes is byte
// for byte what renderSnapshot writes without it, whatever changed between
// two renders; a changed value is rendered new, a new cgroup appears, a
// vanished one disappears and is forgotten.

import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTAINER_FAMILIES, renderSnapshot, type ContainerFamily } from '../../src/exporter/families.js';
import { gzipJoin } from '../../src/exporter/gzip-join.js';
import { RenderCache } from '../../src/exporter/render-cache.js';
import { TextWriter } from '../../src/exporter/text.js';
import { sampleSnapshot, syntheticSnapshot, v2Container } from '../../src/model/samples.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';

const NOW = Date.UTC(2026, 0, 1, 0, 0, 30);

/** The exposition's text: through the cache's compressed pieces when given, else renderSnapshot's. */
function text(s: Snapshot, cache?: RenderCache, nowMs = NOW): string {
  if (cache) return zlib.gunzipSync(gzipJoin(cache.render(s, s.containers, { nowMs }))).toString();
  const w = new TextWriter(256); // a small start: the buffer must grow right
  renderSnapshot(s, s.containers, w, { nowMs });
  return w.text();
}

function container(id: string, overrides: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  return v2Container({ id, name: id.slice(1), containerId: id.slice(1), ...overrides });
}

/** A render cache over the real families, each noting which cgroups it was asked to emit, and its plain render. */
function noticingCache(): {
  emitted: Map<string, string[]>;
  cache: RenderCache;
  rendered: (s: Snapshot, nowMs: number) => string;
} {
  const emitted = new Map<string, string[]>();
  const families = CONTAINER_FAMILIES.map((f): ContainerFamily => ({
    ...f,
    emit: (c, w, ctx) => {
      emitted.set(f.name, (emitted.get(f.name) ?? []).concat(c.id));
      f.emit(c, w, ctx);
    },
  }));
  const cache = new RenderCache({ families });
  const rendered = (s: Snapshot, nowMs: number): string =>
    zlib.gunzipSync(gzipJoin(cache.render(s, s.containers, { nowMs }))).toString();
  return { emitted, cache, rendered };
}

describe('render cache', () => {
  it('reuses unchanged families and renders a family whose value changed new', () => {
    const cache = new RenderCache();
    const a = container('/a');
    const b = container('/b');
    const first = sampleSnapshot([a, b]);
    expect(text(first, cache)).toBe(text(first));
    expect(cache.familiesReused).toBe(0);
    const again = text(first, cache);
    expect(again).toBe(text(first));
    expect(cache.familiesRendered).toBe(0); // every family's compressed text reused

    const busier = container('/b', { memory: { ...b.memory!, usageBytes: 123_456_789 } });
    const second = sampleSnapshot([a, busier]);
    const out = text(second, cache);
    expect(out).toBe(text(second));
    expect(out).toContain('container_memory_usage_bytes{id="/b",image="nginx:1.27",name="b"} 123456789\n');
    expect(out).not.toContain('name="b"} 104857600\n');
    expect(cache.familiesRendered).toBe(1); // container_memory_usage_bytes only
  });

  it('shows a new cgroup, drops a vanished one and forgets it', () => {
    const cache = new RenderCache();
    text(sampleSnapshot([container('/a'), container('/b')]), cache);
    const next = sampleSnapshot([container('/a'), container('/c')]);
    const out = text(next, cache);
    expect(out).toBe(text(next));
    expect(out).toContain('id="/c"');
    expect(out).not.toContain('id="/b"');
    expect(cache.size).toBe(2);
  });

  it('renders a family anew when a sample moves from one cgroup to the next (same values in the same order)', () => {
    const cache = new RenderCache();
    const base = container('/a');
    const device = base.io!.devices[0];
    const withDevices = (id: string, count: number): ContainerSnapshot =>
      container(id, { io: { ...base.io!, devices: Array(count).fill(device) } });
    text(sampleSnapshot([withDevices('/a', 2), withDevices('/b', 1)]), cache);
    const moved = sampleSnapshot([withDevices('/a', 1), withDevices('/b', 2)]);
    expect(text(moved, cache)).toBe(text(moved));
  });

  it('renders a cgroup whose base labels changed (a rename) whole', () => {
    const cache = new RenderCache();
    text(sampleSnapshot([container('/a')]), cache);
    const renamed = sampleSnapshot([container('/a', { name: 'renamed', labels: { team: 'x' } })]);
    const out = text(renamed, cache);
    expect(out).toBe(text(renamed));
    expect(out).toContain('container_label_team="x",id="/a",image="nginx:1.27",name="renamed"');
    expect(cache.familiesReused).toBe(0);
  });

  it('matches the uncached text over random sequences of snapshots', () => {
    const ids = ['/', '/a', '/b', '/c', '/d'];
    const host = sampleSnapshot([]).host;
    const step = fc.record({
      present: fc.subarray(ids),
      usage: fc.oneof(fc.constant(Number.NaN), fc.constant(Infinity), fc.integer({ min: 0, max: 3 })),
      devices: fc.integer({ min: 0, max: 2 }),
      ifaceName: fc.constantFrom('eth0', 'eth1', 'lo'),
      label: fc.constantFrom(null, 'x', 'y"\\\n'),
      quota: fc.boolean(),
      nowMs: fc.integer({ min: NOW, max: NOW + 3000 }),
      hostRx: fc.integer({ min: 0, max: 2 }), // the host's interfaces: the root cgroup's network
      kept: fc.subarray(ids), // these cgroups' last containers again, the same objects (fields the same)
    });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
        const cache = new RenderCache();
        let last: ContainerSnapshot[] = [];
        for (const s of steps) {
          const made = s.present.map((id, i) => {
            const base = container(id);
            return container(id, {
              labels: s.label === null || i > 0 ? {} : { team: s.label },
              cpu: { ...base.cpu!, usageSeconds: s.usage, quotaMicroseconds: s.quota ? 50000 : null },
              memory: { ...base.memory!, usageBytes: i === 0 ? s.usage : 5 },
              io: { ...base.io!, devices: base.io!.devices.slice(0, 1).flatMap((d) => Array(s.devices).fill(d)) },
              network: base.network!.map((n) => ({ ...n, interface: s.ifaceName })),
            });
          });
          const containers = made.map((c) => (s.kept.includes(c.id) ? (last.find((l) => l.id === c.id) ?? c) : c));
          last = containers;
          const network = host.network!.map((n) => ({ ...n, rxBytes: n.rxBytes + s.hostRx }));
          const snap = sampleSnapshot(containers, { host: { ...host, network } });
          expect(text(snap, cache, s.nowMs)).toBe(text(snap, undefined, s.nowMs));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('matches the uncached text at 300 moving containers, tick after tick', () => {
    const cache = new RenderCache();
    for (let tick = 0; tick < 4; tick++) {
      const s = syntheticSnapshot(300, tick);
      expect(text(s, cache, NOW + tick * 1000)).toBe(text(s, undefined, NOW + tick * 1000));
    }
    expect(cache.familiesReused).toBeGreaterThan(cache.familiesRendered); // most families do not move
  });

  it('does not emit again the samples of a container whose fields are the same objects, but for the volatile families', () => {
    const { emitted, rendered } = noticingCache();
    const a = container('/a');
    const b = container('/b');
    const c = container('/c');
    rendered(sampleSnapshot([a, b, c]), NOW);
    emitted.clear();
    // /b is a new object with new values and one more device; /a and /c are the last render's fields, in new objects.
    const device = b.io!.devices[0];
    const b2 = container('/b', {
      memory: { ...b.memory!, usageBytes: 7 },
      io: { ...b.io!, devices: [device, { ...device, minor: 16 }] },
    });
    const next = sampleSnapshot([{ ...a }, b2, { ...c }]);
    expect(rendered(next, NOW + 1000)).toBe(text(next, undefined, NOW + 1000));
    expect(emitted.get('container_memory_usage_bytes')).toEqual(['/b']);
    // /b first over its own last samples: one more, so the family is laid out again from /b, and /c's moved.
    expect(emitted.get('container_fs_reads_bytes_total')).toEqual(['/b', '/b', '/c']);
    expect(emitted.get('container_last_seen')).toEqual(['/a', '/b', '/c']); // the scrape time
    expect(emitted.get('container_network_receive_bytes_total')).toEqual(['/b']); // no root cgroup here
  });

  it("emits, of cgroups whose fields are all the same, only the scrape time and the root cgroup's network (the host's)", () => {
    const { emitted, cache, rendered } = noticingCache();
    const containers = ['/', '/a', '/b', '/c'].map((id) => container(id));
    const host = sampleSnapshot(containers).host;
    const first = sampleSnapshot(containers);
    expect(rendered(first, NOW)).toBe(text(first, undefined, NOW));
    // The same containers; the host's interfaces moved on, and so did the clock.
    emitted.clear();
    const moved = host.network!.map((n) => ({ ...n, rxBytes: n.rxBytes + 4096 }));
    const next = sampleSnapshot(containers, { host: { ...host, network: moved } });
    const out = rendered(next, NOW + 1000);
    expect(out).toBe(text(next, undefined, NOW + 1000));
    const eth0 = moved.find((n) => n.interface === 'eth0')!;
    expect(out).toContain(
      `container_network_receive_bytes_total{id="/",image="nginx:1.27",name="",interface="eth0"} ${eth0.rxBytes}\n`,
    );
    expect(emitted.get('container_last_seen')).toEqual(['/', '/a', '/b', '/c']);
    expect(emitted.get('container_network_receive_bytes_total')).toEqual(['/']);
    expect(emitted.get('container_network_transmit_errors_total')).toEqual(['/']);
    expect([...emitted.keys()].length).toBe(9); // last_seen and the eight network families, nothing else
    expect(cache.familiesRendered).toBe(2); // last_seen, receive bytes
    // A cgroup with new values amid same ones: it alone is emitted, its samples rewritten in place.
    emitted.clear();
    const busier = containers.map((c) => (c.id === '/b' ? { ...c, memory: { ...c.memory!, usageBytes: 77 } } : c));
    const third = sampleSnapshot(busier, { host: { ...host, network: moved } });
    expect(rendered(third, NOW + 1000)).toBe(text(third, undefined, NOW + 1000));
    expect(emitted.get('container_memory_usage_bytes')).toEqual(['/b']);
    expect(emitted.get('container_network_receive_bytes_total')).toEqual(['/', '/b']);
    expect(cache.familiesRendered).toBe(1); // container_memory_usage_bytes
  });

  it('sees new values written into the container objects of the last render (a collector that reuses them)', () => {
    const cache = new RenderCache();
    const a = container('/a');
    const b = container('/b');
    const first = sampleSnapshot([a, b]);
    expect(text(first, cache)).toBe(text(first));
    // The same objects, rewritten: /b's memory is a new object, /a's pids a new value; /a's name changed.
    b.memory = { ...b.memory!, usageBytes: 424_242 };
    a.pids = { ...a.pids!, current: 17 };
    a.name = 'renamed';
    const second = sampleSnapshot([a, b]);
    const out = text(second, cache);
    expect(out).toBe(text(second));
    expect(out).toContain('name="b"} 424242\n');
    expect(out).toContain('container_threads{id="/a",image="nginx:1.27",name="renamed"} 17\n');
    // And back: the cache compares with the values it rendered, not with the objects it was given.
    b.memory = first.containers[1].memory;
    expect(text(sampleSnapshot([a, b]), cache)).toBe(text(sampleSnapshot([a, b])));
  });

  it('starts over after a render that failed half way', () => {
    const cache = new RenderCache();
    const good = sampleSnapshot([container('/a')]);
    text(good, cache);
    const broken = container('/a');
    Object.defineProperty(broken, 'pids', {
      get() {
        throw new Error('boom');
      },
    });
    expect(() => text(sampleSnapshot([broken]), cache)).toThrow('boom');
    expect(cache.size).toBe(0);
    expect(text(good, cache)).toBe(text(good));
  });
});
