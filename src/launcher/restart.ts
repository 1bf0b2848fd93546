// --restart no|on-failure[:N]|always|unless-stopped: docker's policies,
// kept by the detached helper, the container's supervisor
// (native/src/supervisor.c: backoff 100 ms doubling to 1 min, reset after a
// 10 s run). tstop has no daemon, so nothing restarts containers at boot:
// unless-stopped and always behave the same (docker's difference is only
// what its daemon does when it starts).

import { UsageError } from '../util/errors.js';

export type RestartName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  name: RestartName;
  /** on-failure:N; 0 = no limit. */
  maxRetries: number;
}

export const NO_RESTART: RestartPolicy = { name: 'no', maxRetries: 0 };

const NAMES: readonly RestartName[] = ['no', 'on-failure', 'always', 'unless-stopped'];

/** The policy of --restart VALUE (exit 2 on a malformed one, as docker run). */
export function parseRestart(value: string | undefined): RestartPolicy {
  if (value === undefined) return NO_RESTART;
  const m = /^([a-z-]+)(?::(\d{1,9}))?$/.exec(value);
  const name = m?.[1] as RestartName | undefined;
  if (!m || name === undefined || !NAMES.includes(name)) {
    throw new UsageError(`--restart '${value}': expected no, on-failure[:MAX-RETRIES], always or unless-stopped`);
  }
  if (m[2] !== undefined && name !== 'on-failure') {
    throw new UsageError(`--restart '${value}': only on-failure takes a maximum retry count`);
  }
  return { name, maxRetries: m[2] === undefined ? 0 : Number(m[2]) };
}

/** As typed: "on-failure:3", "always". */
export function restartText(p: RestartPolicy): string {
  return p.name === 'on-failure' && p.maxRetries > 0 ? `${p.name}:${p.maxRetries}` : p.name;
}
