// A Limiter for the dashboard's tests: records every call, plans one write
// per requested field, and fails when told to (with a LimitError, like the
// real one).

import {
  LimitError,
  type Invocation,
  type LimitOptions,
  type LimitPlan,
  type LimitRequest,
  type LimitResult,
  type Limiter,
} from '../../src/limiter/api.js';

export interface FakeCall {
  method: 'plan' | 'apply' | 'setFrozen' | 'kill';
  ref?: string;
  request?: LimitRequest;
  options?: LimitOptions;
  plan?: LimitPlan;
  frozen?: boolean;
  signal?: string;
  invocation?: Invocation;
}

export class FakeLimiter implements Limiter {
  calls: FakeCall[] = [];
  /** When set, the next call of that method rejects with it. */
  fail: Partial<Record<FakeCall['method'], Error>> = {};

  async plan(ref: string, request: LimitRequest, options?: LimitOptions): Promise<LimitPlan> {
    this.calls.push({ method: 'plan', ref, request, options });
    if (this.fail.plan) throw this.fail.plan;
    const writes = Object.entries(request).map(([k, v]) => ({
      path: `/sys/fs/cgroup/memory${ref}/${k === 'memory' ? 'memory.limit_in_bytes' : k}`,
      oldValue: '9223372036854771712',
      newValue: Array.isArray(v) ? v.join(',') : String(v),
    }));
    return {
      container: { id: ref, name: ref.slice(ref.lastIndexOf('/') + 1) },
      writes,
      notes: ['a note from the limiter'],
    };
  }

  async apply(plan: LimitPlan, invocation: Invocation): Promise<LimitResult> {
    this.calls.push({ method: 'apply', plan, invocation });
    if (this.fail.apply) throw this.fail.apply;
    return { changeId: 'chg-0001', writes: plan.writes };
  }

  async setFrozen(ref: string, frozen: boolean, invocation: Invocation): Promise<LimitResult> {
    this.calls.push({ method: 'setFrozen', ref, frozen, invocation });
    if (this.fail.setFrozen) throw this.fail.setFrozen;
    return { changeId: 'chg-0002', writes: [] };
  }

  async kill(ref: string, signal: string, invocation: Invocation): Promise<LimitResult> {
    this.calls.push({ method: 'kill', ref, signal, invocation });
    if (this.fail.kill) throw this.fail.kill;
    return { changeId: 'chg-0003', writes: [] };
  }
}

export { LimitError };
