// The dashboard's ranking by the recording rules of
// deploy/prometheus/tstop-rules.yml: which ranking a refresh chooses from
// what the count found, and the PromQL of each. (The rules' values against a
// real Prometheus: test/integration/fleet-rules.test.ts.)

import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  chooseRanking,
  matcherLabels,
  RANKING_RULES,
  rankingRule,
  topQueries,
  type RuleCoverage,
  type TopView,
} from '../../src/fleet/queries.js';

const view: TopView = { n: 200, sort: 'cpu', reverse: false, filter: '' };
const all = { matchers: '', window: '1m' };
const full: RuleCoverage = { rows: 50_000, ranked: 50_000, top: 500 };

describe('ranking by recording rules', () => {
  it('reads the label names of a matcher list, and refuses what is not one', () => {
    expect(matcherLabels('')).toEqual([]);
    expect(matcherLabels('job="tstop", instance=~"web-.*:9338",id!=\'/\'')).toEqual(['job', 'instance', 'id']);
    expect(matcherLabels('env="a,b=\\"c\\""')).toEqual(['env']);
    expect(matcherLabels('job')).toBeNull();
    expect(matcherLabels('job="a" or')).toBeNull();
  });

  it('has a rule for CPU only, at the 1m window, in scopes on the labels the rules keep', () => {
    expect(rankingRule(all, 'cpu')?.record).toBe('tstop:container_cpu_usage_seconds:rate1m');
    // Text sorts rank by CPU.
    expect(rankingRule(all, 'name')?.record).toBe('tstop:container_cpu_usage_seconds:rate1m');
    expect(rankingRule(all, 'mem')).toBeNull();
    expect(rankingRule({ ...all, window: '5m' }, 'cpu')).toBeNull();
    expect(rankingRule({ ...all, matchers: 'job="tstop",instance=~"web.*"' }, 'cpu')).not.toBeNull();
    expect(rankingRule({ ...all, matchers: 'job="tstop",env="prod"' }, 'cpu')).toBeNull();
  });

  it('chooses the top rule for the default view, the value rule when the view or scope is past it, raw when not covered', () => {
    expect(chooseRanking(all, view, null)).toBe('raw');
    expect(chooseRanking(all, view, full)).toBe('top');
    expect(chooseRanking({ ...all, matchers: 'job="tstop"' }, view, full)).toBe('top');
    // Filtered, reversed, more rows than the top rule holds, a scope within jobs: every row's value.
    expect(chooseRanking(all, { ...view, filter: 'web' }, full)).toBe('rule');
    expect(chooseRanking(all, { ...view, reverse: true }, full)).toBe('rule');
    expect(chooseRanking(all, { ...view, n: 501 }, full)).toBe('rule');
    expect(chooseRanking({ ...all, matchers: 'instance=~"web.*"' }, view, full)).toBe('rule');
    // The top rule short of its 500 rows (or of the rows there are): not loaded everywhere.
    expect(chooseRanking(all, view, { ...full, top: 499 })).toBe('rule');
    expect(chooseRanking(all, view, { rows: 300, ranked: 300, top: 300 })).toBe('top');
    // The value rule short of the rows: raw rates, even with a full top rule (it would rank some rows only).
    expect(chooseRanking(all, view, { ...full, ranked: 49_999 })).toBe('raw');
    expect(chooseRanking(all, view, { ...full, ranked: 49_999, top: 0 })).toBe('raw');
    expect(chooseRanking(all, view, { rows: 0, ranked: 0, top: 0 })).toBe('raw');
    // No rule for the sort, the window or the scope: raw whatever the count said.
    expect(chooseRanking(all, { ...view, sort: 'mem' }, full)).toBe('raw');
    expect(chooseRanking({ ...all, window: '30s' }, view, full)).toBe('raw');
    expect(chooseRanking({ ...all, matchers: 'env="prod"' }, view, full)).toBe('raw');
  });

  it('ranks the rules series with topk alone, and counts them tagged when probing', () => {
    const scope = { matchers: 'job="tstop"', window: '1m' };
    expect(topQueries(scope, view, { ranking: 'top' }).keys).toBe(
      'group by (instance, id) (topk(200, tstop:container_cpu_usage_seconds:rate1m_top500{job="tstop"}))',
    );
    expect(topQueries(scope, { ...view, filter: 'web' }, { ranking: 'rule' }).keys).toMatch(
      /^group by \(instance, id\) \(topk\(200, \(tstop:container_cpu_usage_seconds:rate1m\{job="tstop"\}\) and on \(instance, id\)/,
    );
    const raw = topQueries(scope, view);
    expect(raw.keys).toContain('rate(container_cpu_usage_seconds_total{job="tstop"}[1m])');
    expect(raw.total).toBe('count(group by (instance, id) (container_last_seen{job="tstop"}))');
    expect(topQueries(scope, view, { probe: true }).total).toBe(
      'label_replace(count(group by (instance, id) (container_last_seen{job="tstop"})), "tstop_field", "rows", "", "") or ' +
        'label_replace(count(tstop:container_cpu_usage_seconds:rate1m{job="tstop"}), "tstop_field", "ranked", "", "") or ' +
        'label_replace(count(tstop:container_cpu_usage_seconds:rate1m_top500{job="tstop"}), "tstop_field", "top", "", "")',
    );
    // A sort without a rule never reads one, whatever is asked.
    const mem = topQueries(scope, { ...view, sort: 'mem' }, { ranking: 'top', probe: true });
    expect(mem.keys).not.toContain('tstop:');
    expect(mem.total).toBe(raw.total);
  });

  it('names in the shipped rules file the rules the ranking reads, with their window and size', () => {
    const file = new URL('../../deploy/prometheus/tstop-rules.yml', import.meta.url);
    const rules = (
      YAML.parse(fs.readFileSync(file, 'utf8')) as { groups: { rules: { record: string; expr: string }[] }[] }
    ).groups.flatMap((g) => g.rules);
    const cpu = RANKING_RULES.cpu;
    const value = rules.find((r) => r.record === cpu.record);
    const top = rules.find((r) => r.record === cpu.top.record);
    expect(value?.expr).toBe('sum by (instance, job, id) (rate(container_cpu_usage_seconds_total[1m]))');
    expect(top?.expr).toBe(`topk by (job) (${cpu.top.rows}, ${cpu.record})`);
    // The top rule reads the value rule of the same evaluation: after it, in the same group.
    expect(rules.indexOf(top!)).toBeGreaterThan(rules.indexOf(value!));
  });
});
