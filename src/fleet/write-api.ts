// The fleet dashboard's `l`: each change goes to the write API of the row's
// host, found by a URL template (`--write-api 'https://{instance}'`), with
// one token file for the fleet. The row id is "/<instance><cgroup path>"
// (mapping.ts fleetId): the node gets the path, which is unambiguous there.
// Freeze and signals are not in the write API.

import {
  LimitError,
  type LimitOptions,
  type LimitPlan,
  type LimitRequest,
  type LimitResult,
  type Limiter,
} from '../limiter/api.js';
import { RemoteLimiter } from '../limiter/remote.js';
import { PrometheusUsageError } from './prometheus.js';
import { parseFleetId } from './mapping.js';

export interface WriteApiRouting {
  /** e.g. https://{instance} or https://{host}:9338; {instance} is the label, {host} the label without its port. */
  template: string;
  token: string;
  ca?: Buffer;
  timeoutMs?: number;
}

const FLAGS = { token: '--write-api-token-file', ca: '--write-api-ca-file' };

/** The write API URL of an instance. */
export function writeApiUrl(template: string, instance: string): string {
  const host = instance.replace(/:\d+$/, '');
  return template.replace(/\{instance\}/g, instance).replace(/\{host\}/g, host);
}

/** Refuses a template without {instance} or {host}, or one that does not make an http(s) URL. */
export function checkWriteApiTemplate(template: string): void {
  if (!/\{(instance|host)\}/.test(template)) {
    throw new PrometheusUsageError(
      `--write-api: '${template}' names no {instance} or {host} (e.g. 'https://{instance}')`,
    );
  }
  let u: URL;
  try {
    u = new URL(writeApiUrl(template, 'node.example:9338'));
  } catch {
    throw new PrometheusUsageError(`--write-api: '${template}' does not make a URL (e.g. 'https://{instance}')`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new PrometheusUsageError(`--write-api: '${template}' is not an http or https URL`);
  }
}

export class FleetWriteLimiter implements Limiter {
  private readonly byUrl = new Map<string, RemoteLimiter>();
  /** Which node planned each plan: apply() goes back to it. */
  private readonly plannedBy = new WeakMap<LimitPlan, RemoteLimiter>();

  constructor(private readonly routing: WriteApiRouting) {
    checkWriteApiTemplate(routing.template);
  }

  /** The node's limiter for a fleet row id, and the cgroup path to send it. */
  private route(ref: string): { remote: RemoteLimiter; path: string } {
    const parsed = parseFleetId(ref);
    if (!parsed) throw new LimitError(`'${ref}' is not a fleet row (/<instance>/<cgroup path>)`, 2, 'invalid');
    const url = writeApiUrl(this.routing.template, parsed.instance);
    let remote = this.byUrl.get(url);
    if (!remote) {
      remote = new RemoteLimiter({
        url,
        token: this.routing.token,
        ca: this.routing.ca,
        timeoutMs: this.routing.timeoutMs,
        flags: FLAGS,
      });
      this.byUrl.set(url, remote);
    }
    return { remote, path: parsed.path };
  }

  async plan(ref: string, request: LimitRequest, options?: LimitOptions): Promise<LimitPlan> {
    const { remote, path } = this.route(ref);
    const plan = await remote.plan(path, request, options);
    // The node's name for the container, with the node in front (the dialog shows it).
    plan.container = { id: plan.container.id, name: `${remote.base.host}: ${plan.container.name}` };
    this.plannedBy.set(plan, remote);
    return plan;
  }

  async apply(plan: LimitPlan): Promise<LimitResult> {
    const remote = this.plannedBy.get(plan);
    if (!remote) throw new LimitError('this plan was not made by a write API of the fleet', 1, 'failed');
    return remote.apply(plan);
  }

  setFrozen(): Promise<LimitResult> {
    return Promise.reject(new LimitError(FLEET_FREEZE_MESSAGE, 2, 'refused'));
  }

  kill(): Promise<LimitResult> {
    return Promise.reject(new LimitError(FLEET_SIGNAL_MESSAGE, 2, 'refused'));
  }
}

export const FLEET_FREEZE_MESSAGE =
  'the write API changes limits only: run `tstop freeze` / `tstop thaw` on that host (instance column)';
export const FLEET_SIGNAL_MESSAGE =
  'the write API changes limits only: run `tstop kill` on that host (instance column)';
export const FLEET_LIMIT_HOWTO =
  "the fleet view sends changes to each host's write API: start it with --write-api 'https://{instance}' --write-api-token-file FILE (docs/fleet.md)";
