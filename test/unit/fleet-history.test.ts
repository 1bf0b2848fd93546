// The fleet detail view's charts from a range query: points on a grid become
// a ContainerHistory in the snapshot's monotonic clock, the grid starts at
// the first point, and the chart labels say where the points come from.

import { describe, expect, it } from 'vitest';
import { detailQuery } from '../../src/fleet/queries.js';
import { chartData } from '../../ui/view/chart.js';
import { historyFromPoints } from '../../ui/view/history.js';

describe('fleet detail history', () => {
  it('puts range points on the grid from the first point on, in monotonic time, gaps as null', () => {
    const grid = { startSeconds: 1000, endSeconds: 1300, stepSeconds: 30 };
    const h = historyFromPoints(
      {
        cpu: [
          [1180, 50],
          [1210, 70],
          [1270, 90],
        ],
        mem: [[1240, 64 * 1024 * 1024]],
        memLimit: [1180, 1210, 1240, 1270, 1300].map((t): [number, number] => [t, 256 * 1024 * 1024]),
      },
      grid,
      { wallNow: 1300, monoNow: 100 },
      '(last hour)',
    );
    const cpu = h.series.cpu.points();
    // 1180..1300 every 30 s; wall 1300 is monotonic 100.
    expect(cpu.times).toEqual([-20, 10, 40, 70, 100]);
    expect(cpu.values).toEqual([50, 70, null, 90, null]);
    expect(h.series.mem.points().values).toEqual([null, null, 64 * 1024 * 1024, null, null]);
    expect(h.since).toBe(-20);
    const chart = chartData('cpu', h, 1300, 100);
    expect(chart.label).toBe('CPU % (last hour)');
    expect(chart.x).toHaveLength(5);
    expect(chartData('memory', h, 1300, 100).label).toBe('Memory MiB (last hour)');
  });

  it('asks for every chart series of one container in one range query', () => {
    const q = detailQuery({ matchers: 'job="tstop"', window: '5s' }, 'node:9338', '/docker/abc', '30s');
    for (const field of ['cpu', 'mem', 'memLimit', 'ioRead', 'ioWrite', 'netRx', 'netTx']) {
      expect(q).toContain(`"tstop_field", "${field}"`);
    }
    expect(q).toContain('job="tstop",instance="node:9338",id="/docker/abc"');
    expect(q).toContain('[30s]');
    expect(q).not.toContain('[5s]');
  });
});
