// The dashboard's narrowed refresh: the topk keys query, the path set, and
// the fields computed from raw gauges and counter samples as the full
// refresh's PromQL computes them.

import { describe, expect, it } from 'vitest';
import { counterIncrease, narrowedQueries, narrowedValues } from '../../src/fleet/narrowed.js';
import { FIELD_LABEL, keyedScope, topQueries } from '../../src/fleet/queries.js';

const at = (id: string, instance = 'n1:9338') => ({ instance, id });

describe('fleet narrowed refresh', () => {
  it('ranks by the sort key with topk (bottomk reversed), fills sparse keys with ±Inf, and applies the filter per label', () => {
    const scope = { matchers: 'job="tstop"', window: '1m' };
    const cpu = topQueries(scope, { n: 50, sort: 'cpu', reverse: false, filter: '' });
    expect(cpu.keys).toBe(
      'group by (instance, id) (topk(50, sum by (instance, id) (rate(container_cpu_usage_seconds_total{job="tstop"}[1m]))))',
    );
    expect(cpu.total).toBe('count(group by (instance, id) (container_last_seen{job="tstop"}))');
    const memPct = topQueries(scope, { n: 50, sort: 'memPct', reverse: true, filter: '' });
    expect(memPct.keys).toMatch(/^group by \(instance, id\) \(bottomk\(50, /);
    expect(memPct.keys).toContain('* +Inf');
    // Text sorts rank by CPU.
    expect(topQueries(scope, { n: 50, sort: 'name', reverse: false, filter: '' }).keys).toBe(cpu.keys);
    const filtered = topQueries(scope, { n: 50, sort: 'cpu', reverse: false, filter: 'n1:9338/docker' });
    expect(filtered.keys).toContain('and on (instance, id)');
    for (const label of ['name', 'id', 'image', 'instance'])
      expect(filtered.keys).toContain(`${label}=~"(?i).*(?:n1:9338/docker).*"`);
    expect(filtered.keys).toContain('instance=~"(?i).*(?:n1:9338)",id=~"(?i)/(?:docker).*"');
    // An invalid regex is the literal text, as in the dashboard.
    expect(topQueries(scope, { n: 5, sort: 'cpu', reverse: false, filter: 'a[b' }).keys).toContain('(?:a\\\\[b)');
  });

  it('narrows by the set of paths, escaped, once per selector', () => {
    const s = keyedScope({ matchers: '', window: '1m' }, [
      ['n1:9338', '/docker/a.b'],
      ['n2:9338', '/docker/a.b'],
      ['n2:9338', '/system.slice'],
    ]);
    expect(s.matchers).toBe('id=~"/docker/a\\\\.b|/system\\\\.slice"');
    const q = narrowedQueries(s);
    expect(q.gauges).toMatch(/^\{__name__=~"[a-z_|0-9]+",id=~"[^"]+"\}$/);
    expect(q.counters).toMatch(/\}\[1m\]$/);
    expect(q.gauges).toContain('container_memory_usage_bytes');
    expect(q.gauges).not.toContain('container_fs_reads_bytes_total');
    expect(q.counters).toContain('container_fs_reads_bytes_total');
  });

  it('computes counter increases across a reset', () => {
    expect(
      counterIncrease([
        [0, 10],
        [15, 20],
        [30, 5],
        [45, 15],
      ]),
    ).toEqual({ increase: 10 + 5 + 10, seconds: 45 });
    expect(counterIncrease([[0, 1]])).toBeNull();
  });

  it('turns raw series into the per-field values the full refresh gets', () => {
    const values = narrowedValues(
      [
        { metric: { __name__: 'container_memory_usage_bytes', ...at('/a') }, value: 100 },
        { metric: { __name__: 'container_network_receive_bytes_total', ...at('/a'), interface: 'eth0' }, value: 5 },
        { metric: { __name__: 'container_network_receive_bytes_total', ...at('/a'), interface: 'eth1' }, value: 7 },
        { metric: { __name__: 'container_start_time_seconds', ...at('/a') }, value: 50 },
        { metric: { __name__: 'container_start_time_seconds', ...at('/a'), extra: 'x' }, value: 40 },
      ],
      [
        {
          metric: { __name__: 'container_cpu_usage_seconds_total', ...at('/a'), cpu: 'total' },
          points: [
            [0, 10],
            [30, 25],
          ],
        },
        {
          metric: { __name__: 'container_oom_events_total', ...at('/a') },
          points: [
            [0, 1],
            [30, 3],
          ],
        },
      ],
    );
    const get = (field: string): number | undefined =>
      values.find((v) => v.metric[FIELD_LABEL] === field && v.metric.id === '/a')?.value;
    expect(get('memUsage')).toBe(100);
    expect(get('netRxBytes')).toBe(12); // summed over interfaces
    expect(get('startTime')).toBe(40); // the earliest
    expect(get('cpuRate')).toBe(0.5);
    expect(get('oomKillsRecent')).toBe(2);
    expect(get('cpuSeconds')).toBeUndefined(); // the counter's instant value comes from the gauges query only
    expect(values.every((v) => v.metric.instance === 'n1:9338')).toBe(true);
  });
});
