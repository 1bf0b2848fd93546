// The pure parts of limits that expire: which changes are pending, --for
// parsing, a guard's limit --for handed to the limiter as forMs, and the
// agent families' exposition.

import { describe, expect, it } from 'vitest';
import type { ChangeRecord } from '../../src/limiter/api.js';
import { LimitError } from '../../src/limiter/api.js';
import { parseForDuration, pendingExpiries } from '../../src/limiter/expiry.js';
import { renderAgentState } from '../../src/exporter/agent-families.js';
import { parseGuardConfig } from '../../src/guard/rules.js';
import { GuardRunner } from '../../src/guard/runner.js';
import type { ContainerSnapshot, Snapshot } from '../../src/model/types.js';
import { FakeLimiter } from '../helpers/fake-limiter.js';
import { createLimitForm, formCommandLine, formRequest } from '../../ui/view/form.js';
import { lineEdit } from '../../ui/view/edit.js';
import { headerLines } from '../../ui/view/header.js';
import { initialState } from '../../ui/view/view-state.js';
import { ASCII_GLYPHS } from '../../ui/view/text.js';

function change(id: string, extra: Partial<ChangeRecord> = {}): ChangeRecord {
  return {
    type: 'change',
    v: 1,
    id,
    time: '2026-12-06T20:00:00.000Z',
    host: 'h',
    uid: 0,
    user: 'root',
    sudoUser: null,
    pid: 1,
    pidStart: null,
    via: 'cli',
    remoteAddress: null,
    action: 'limit',
    undoes: null,
    container: { id: '/c', name: 'c' },
    writes: [],
    signal: null,
    pids: null,
    result: 'applied',
    error: null,
    notes: [],
    ...extra,
  };
}

describe('pendingExpiries', () => {
  const at = (s: number): string => new Date(Date.UTC(2026, 11, 6, 21, 0, s)).toISOString();

  it('lists applied changes with a deadline, soonest first, until a revert, a skip, a keep or an undo resolves them', () => {
    const changes = [
      change('a', { expiresAt: at(30) }),
      change('b', { expiresAt: at(10) }),
      change('c', { expiresAt: at(20) }),
      change('d', { expiresAt: at(40) }),
      change('e', { expiresAt: at(50) }),
      change('f', { expiresAt: at(5), result: 'rolled-back' }),
      change('g'),
      change('ra', { action: 'undo', undoes: 'a', expired: true }), // reverted
      change('rc', { action: 'undo', undoes: 'c', expired: true, result: 'skipped' }), // skipped
      change('kd', { action: 'keep', keeps: 'd' }), // kept
      change('ue', { action: 'undo', undoes: 'e', result: 'rolled-back' }), // a failed undo resolves nothing
    ];
    expect(pendingExpiries(changes).map((p) => [p.change.id, p.deadlineMs])).toEqual([
      ['b', Date.parse(at(10))],
      ['e', Date.parse(at(50))],
    ]);
  });
});

describe('parseForDuration', () => {
  it.each([
    ['6s', 6_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['90', 90_000],
    ['30d', 30 * 86_400_000],
  ])('%s is %d ms', (text, ms) => expect(parseForDuration(text)).toBe(ms));

  it.each([
    ['soon', "--for 'soon': not a duration (examples: 30s, 10m, 2h30m, 7d); nothing was changed"],
    ['', "--for '': not a duration (examples: 30s, 10m, 2h30m, 7d); nothing was changed"],
    ['999ms', "--for '999ms': must be at least 1s; nothing was changed"],
    ['30d1s', "--for '30d1s': must be at most 30d; nothing was changed"],
  ])('refuses %j', (text, message) => {
    expect(() => parseForDuration(text)).toThrow(new LimitError(message));
    try {
      parseForDuration(text);
    } catch (err) {
      expect((err as LimitError).exitCode).toBe(2);
    }
  });

  it('a guard rule with a bad limit --for is refused with its line', () => {
    const text =
      'rules:\n  - name: x\n    match: "*"\n    when: cpu.percent > 50\n    action: limit --cpus 1 --for 100ms\n';
    expect(() => parseGuardConfig(text, 'r.yml', { freezer: true })).toThrow(
      /r\.yml:5: .*limit --for '100ms': must be at least 1s/,
    );
  });
});

describe("a guard's limit --for", () => {
  it('asks the limiter for a durable expiry (forMs), not a revert kept in the process', async () => {
    const rules = parseGuardConfig(
      'rules:\n  - name: cap\n    match: "web-*"\n    when: cpu.percent > 50\n    action: limit --cpus 0.5 --for 10m\n',
      'r.yml',
      { freezer: true },
    );
    const c = { id: '/docker/abc', name: 'web-1', containerId: 'abc', runtime: 'docker', cpu: { percent: 90 } };
    const snap = { containers: [c as unknown as ContainerSnapshot] } as Snapshot;
    const limiter = new FakeLimiter();
    const runner = new GuardRunner({
      rules,
      source: { collect: () => snap },
      limiter: Object.assign(limiter, { history: async () => [], planUndo: async () => ({}) as never }),
      dryRun: false,
      log: () => undefined,
      now: () => 0,
    });
    await runner.tick();
    expect(limiter.calls.find((x) => x.method === 'plan')?.options).toEqual({ allowSystem: false, forMs: 600_000 });
    expect(limiter.calls.find((x) => x.method === 'apply')?.invocation).toEqual({ via: 'guard', rule: 'cap' });
    expect(runner.pendingCount).toBe(0);
  });
});

describe('agent families', () => {
  it('render each rule with its action from 0, the firing gauge and the pending expiries', () => {
    const text = renderAgentState({
      rules: [
        { name: 'mem-hog', action: 'freeze' },
        { name: 'cap', action: 'limit' },
      ],
      actions: new Map([['mem-hog', new Map([['freeze', 2]])]]),
      firing: new Map([['mem-hog', 1]]),
      expiryPending: 3,
    });
    expect(text).toBe(
      [
        '# HELP tstop_guard_actions_total Actions guard rules took through the limiter (--guard), by rule and action (dry runs excluded).',
        '# TYPE tstop_guard_actions_total counter',
        'tstop_guard_actions_total{rule="mem-hog",action="freeze"} 2',
        'tstop_guard_actions_total{rule="cap",action="limit"} 0',
        "# HELP tstop_guard_rule_firing Containers whose conditions had held for the rule's `for` at the last evaluation (--guard).",
        '# TYPE tstop_guard_rule_firing gauge',
        'tstop_guard_rule_firing{rule="mem-hog"} 1',
        'tstop_guard_rule_firing{rule="cap"} 0',
        '# HELP tstop_limit_expiry_pending Limit changes made with --for whose old values have not come back yet (pending expiries in the audit log).',
        '# TYPE tstop_limit_expiry_pending gauge',
        'tstop_limit_expiry_pending 3',
        '',
      ].join('\n'),
    );
  });

  it('without --guard only the pending expiries appear', () => {
    const text = renderAgentState({ rules: [], actions: new Map(), firing: new Map(), expiryPending: 0 });
    expect(text).not.toMatch(/tstop_guard/);
    expect(text).toMatch(/^tstop_limit_expiry_pending 0$/m);
  });
});

describe('the dashboard', () => {
  it("the limit form's duration becomes forMs; a bad one is the limiter's message", () => {
    const c = { id: '/docker/web', name: 'web', runtime: 'docker' } as unknown as ContainerSnapshot;
    const form = createLimitForm(c, 'web');
    const field = (key: string) => form.fields.find((f) => f.key === key)!;
    const memory = field('memory');
    const duration = field('for');
    if (memory.kind !== 'text' || duration.kind !== 'text') throw new Error('text fields expected');
    memory.edit = lineEdit('512m');
    duration.edit = lineEdit('30m');
    expect(formRequest(form)).toEqual({ request: { memory: '512m' }, options: { forMs: 1_800_000 } });
    expect(formCommandLine(form)).toBe('tstop limit /docker/web --memory 512m --for 30m');
    duration.edit = lineEdit('now');
    expect(formRequest(form)).toEqual({
      error: "--for 'now': not a duration (examples: 30s, 10m, 2h30m, 7d); nothing was changed",
    });
  });

  it('the header lists containers with a pending expiry and the time left', () => {
    const lines = headerLines({
      snapshot: null,
      state: initialState(),
      shown: 0,
      width: 120,
      now: new Date(),
      glyphs: ASCII_GLYPHS,
      expiries: [
        { name: 'web', leftMs: 1_799_200 },
        { name: 'db', leftMs: 4_100 },
      ],
    });
    const line3 = lines[2].map((s) => s.text).join('');
    expect(line3).toMatch(/ {2}expiring web 30m, db 5s( |$)/);
    expect(lines[2].find((s) => s.text.startsWith('web'))?.level).toBe('warn');
  });
});
