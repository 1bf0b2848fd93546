// Guard rules: the YAML as the issue writes it, errors with line numbers,
// and the engine's timing (for, cooldown, maxActionsPerHour) and choice
// (prefer, avoid, orderBy) on sample snapshots.
import { describe, expect, it } from 'vitest';
import { GuardEngine } from '../../src/guard/engine.js';
import { numericPaths } from '../../src/guard/fields.js';
import { GuardRunner } from '../../src/guard/runner.js';
import { parseGuardConfig, type GuardRule } from '../../src/guard/rules.js';
import type { LimiterHistory } from '../../src/limiter/api.js';
import { sampleContainer, sampleSnapshot } from '../../src/model/samples.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { FakeLimiter } from '../helpers/fake-limiter.js';

const MiB = 1024 * 1024;

const MINIMAL = `rules:
  - name: mem-hog
    match: "web-*"                 # glob on container name, id, or cgroup path
    when: memory.usageBytes > 32MiB   # <snapshot field path> <op> <value with unit>
    for: 2s                        # sustained this long
    action: freeze                 # freeze | thaw | kill SIGTERM | limit --memory 1g --for 10m | notify
`;

function rules(yaml: string): GuardRule[] {
  return parseGuardConfig(yaml, 'rules.yml');
}

function container(name: string, memBytes: number, extra: Partial<ContainerSnapshot> = {}): ContainerSnapshot {
  const c = sampleContainer({ id: `/docker/${name}`, name, memBytes });
  c.memory!.usageBytes = memBytes;
  // the same cgroup from sample to sample (a new inode would be a recreated one)
  c.inode = [...name].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7) % 1_000_000;
  return { ...c, ...extra };
}

function snap(...cs: ContainerSnapshot[]): Snapshot {
  return sampleSnapshot(cs);
}

describe('guard rules', () => {
  it('reads the minimal rule exactly as written', () => {
    const [r] = rules(MINIMAL);
    expect(r.name).toBe('mem-hog');
    expect(r.forMs).toBe(2000);
    expect(r.action).toEqual({ kind: 'freeze' });
    expect(r.conditions).toHaveLength(1);
    expect(r.conditions[0]).toMatchObject({ field: 'memory.usageBytes', op: '>', value: 32 * MiB });
    expect(r.match.test('web-1')).toBe(true);
    expect(r.match.test('db-1')).toBe(false);
  });

  it('takes all/any lists, percent and duration units, and limit actions with --for', () => {
    const [r] = rules(`rules:
  - name: cap
    any:
      - pressure.memory.some.avg10 >= 40%
      - memory.percentOfLimit > 90
      - cpu.throttledSeconds > 1m
    action: limit --memory 1g --cpus 0.5 --for 10m
    cooldown: 5m
    maxActionsPerHour: 3
    orderBy: memory.workingSetBytes
    prefer: "batch-*"
    avoid: "db-*"
`);
    expect(r.combine).toBe('any');
    expect(r.conditions.map((c) => c.value)).toEqual([40, 90, 60]);
    expect(r.action).toEqual({ kind: 'limit', request: { memory: '1g', cpus: '0.5' }, forMs: 600_000 });
    expect(r.cooldownMs).toBe(300_000);
    expect(r.maxActionsPerHour).toBe(3);
  });

  it('names the line of each mistake and changes nothing', () => {
    const bad = (yaml: string): string => {
      try {
        rules(yaml);
      } catch (err) {
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(bad(MINIMAL.replace('for: 2s', 'fro: 2s'))).toMatch(/^rules\.yml:5: unknown field 'fro'/);
    expect(bad(MINIMAL.replace('32MiB', '32 lots'))).toMatch(/^rules\.yml:4: .*expected <field> <op> <value>/);
    expect(bad(MINIMAL.replace('32MiB', '32QiB'))).toMatch(/^rules\.yml:4: .*unknown unit/);
    expect(bad(MINIMAL.replace('memory.usageBytes', 'memory.usedBytes'))).toMatch(
      /^rules\.yml:4: 'memory\.usedBytes' is not a numeric snapshot field \(for example: memory\./,
    );
    expect(bad(MINIMAL.replace('action: freeze', 'action: explode'))).toMatch(
      /^rules\.yml:6: unknown action 'explode'/,
    );
    expect(bad(MINIMAL.replace('for: 2s', 'for: soon'))).toMatch(/^rules\.yml:5: for: 'soon' is not a duration/);
    expect(bad(MINIMAL.replace('action: freeze', 'action: limit --memroy 1g'))).toMatch(/unknown flag '--memroy'/);
    expect(bad(MINIMAL.replace('action: freeze', 'action: limit --memory 1x'))).toMatch(/^rules\.yml:6: limit: /);
    expect(bad(MINIMAL + MINIMAL.replace('rules:\n', ''))).toMatch(/^rules\.yml:7: a second rule named 'mem-hog'/);
    expect(bad('rules: [\n')).toMatch(/^rules\.yml:\d+: not valid YAML/);
    expect(() => parseGuardConfig(MINIMAL, 'r.yml', { freezer: false })).toThrow(
      /r\.yml:6: action freeze: this host has no freezer/,
    );
  });

  it('knows every numeric field of the snapshot schema and the derived ones', () => {
    const paths = numericPaths();
    for (const p of [
      'memory.workingSetBytes',
      'cpu.throttledPercent',
      'cpu.percent',
      'pids.current',
      'pressure.memory.some.avg10',
      'memory.percentOfLimit',
      'cpu.percentOfQuota',
      'memory.oomKillsDelta',
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths).not.toContain('name');
  });
});

describe('guard engine', () => {
  it('acts only once the condition held for `for`, and again only after the cooldown', () => {
    const engine = new GuardEngine(rules(MINIMAL.replace('for: 2s', 'for: 2s\n    cooldown: 10s')));
    const hog = container('web-1', 40 * MiB);
    expect(engine.evaluate(snap(hog), 0)).toEqual([]);
    expect(engine.evaluate(snap(hog), 1000)).toEqual([]);
    const [d] = engine.evaluate(snap(hog), 2000);
    expect(d).toMatchObject({
      rule: 'mem-hog',
      container: { name: 'web-1' },
      values: { 'memory.usageBytes': 40 * MiB },
      heldMs: 2000,
    });
    // held again for 2 s, but within the cooldown
    expect(engine.evaluate(snap(hog), 5000)).toEqual([]);
    expect(engine.evaluate(snap(hog), 12_000)).toHaveLength(1);
  });

  it('restarts the clock when the condition stops holding, and ignores other names', () => {
    const engine = new GuardEngine(rules(MINIMAL));
    engine.evaluate(snap(container('web-1', 40 * MiB), container('db-1', 900 * MiB)), 0);
    engine.evaluate(snap(container('web-1', 10 * MiB)), 1000);
    expect(engine.evaluate(snap(container('web-1', 40 * MiB)), 2500)).toEqual([]);
    expect(engine.evaluate(snap(container('web-1', 40 * MiB)), 4500)).toHaveLength(1);
  });

  it('chooses prefer first, avoid last, then the largest orderBy value', () => {
    const yaml = MINIMAL.replace(
      'for: 2s',
      'for: 0s\n    orderBy: memory.usageBytes\n    avoid: "web-big"\n    prefer: "web-small"',
    );
    const pick = (r: GuardRule[], cs: ContainerSnapshot[]): string =>
      new GuardEngine(r).evaluate(snap(...cs), 0)[0].container.name;
    const cs = [container('web-big', 900 * MiB), container('web-mid', 100 * MiB), container('web-small', 40 * MiB)];
    expect(pick(rules(yaml), cs)).toBe('web-small');
    expect(pick(rules(yaml.replace('\n    prefer: "web-small"', '')), cs)).toBe('web-mid');
    expect(pick(rules(yaml.replace('\n    prefer: "web-small"', '').replace('\n    avoid: "web-big"', '')), cs)).toBe(
      'web-big',
    );
  });

  it('caps actions per hour', () => {
    const engine = new GuardEngine(
      rules(MINIMAL.replace('for: 2s', 'for: 0s\n    cooldown: 0s\n    maxActionsPerHour: 2')),
    );
    const hog = snap(container('web-1', 40 * MiB));
    const acted = [0, 1000, 2000, 3000].map((t) => engine.evaluate(hog, t).length);
    expect(acted).toEqual([1, 1, 0, 0]);
    expect(engine.evaluate(hog, 3_600_001)).toHaveLength(1);
  });

  it('counts new OOM kills since the previous sample (memory.oomKillsDelta)', () => {
    const engine = new GuardEngine(
      rules(MINIMAL.replace('memory.usageBytes > 32MiB', 'memory.oomKillsDelta > 0').replace('for: 2s', 'for: 0s')),
    );
    const withKills = (n: number): ContainerSnapshot => {
      const c = container('web-1', MiB);
      c.memory!.oomKills = n;
      return c;
    };
    expect(engine.evaluate(snap(withKills(3)), 0)).toEqual([]); // no previous sample: 0 new
    const [d] = engine.evaluate(snap(withKills(5)), 1000);
    expect(d.values['memory.oomKillsDelta']).toBe(2);
  });

  it('fires the same way in a dry run as in a real run on the same data', async () => {
    const config = rules(`rules:
  - name: hog
    match: "*"
    when: memory.usageBytes > 32MiB
    for: 1s
    action: limit --memory 64m --for 5s
  - name: oom
    match: "web-*"
    when: memory.oomKillsDelta > 0
    action: freeze
    thawAfter: 2s
`);
    const series: Snapshot[] = [];
    for (let t = 0; t < 10; t++) {
      const a = container('web-1', (20 + t * 5) * MiB);
      a.memory!.oomKills = t >= 6 ? t : 0;
      series.push(snap(a, container('db-1', t % 3 === 0 ? 50 * MiB : 10 * MiB)));
    }
    const run = async (dryRun: boolean): Promise<string[]> => {
      let i = 0;
      let clock = 0;
      const limiter = new FakeLimiter() as FakeLimiter & LimiterHistory;
      limiter.planUndo = async (id: string) => ({ container: { id, name: id }, writes: [], notes: [] });
      limiter.history = async () => [];
      const runner = new GuardRunner({
        rules: config,
        source: { collect: () => series[i++] },
        limiter: dryRun ? null : limiter,
        dryRun,
        log: () => undefined,
        now: () => clock,
      });
      const fired: string[] = [];
      for (let t = 0; t < series.length; t++) {
        clock = t * 1000;
        for (const d of await runner.tick()) fired.push(`${t}:${d.rule}:${d.container.name}`);
      }
      return fired;
    };
    const dry = await run(true);
    expect(dry.length).toBeGreaterThan(1);
    expect(await run(false)).toEqual(dry);
  });
});
