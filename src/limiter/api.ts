// The limiter's contract with its callers (CLI, dashboard, HTTP write API).
// A change is parsed and validated first, planned as file writes, applied
// all-or-nothing with read-back, and audited before success is reported.

/** The limits a user asks for, as typed (docker update / docker run flag names, camelCased). */
export interface LimitRequest {
  memory?: string;
  memoryReservation?: string;
  memoryHigh?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  cpuWeight?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  /** "/dev/path:rate" or "major:minor:rate" */
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  /** v1 device rules such as "c 1:3 rwm" */
  deviceAllow?: string[];
  deviceDeny?: string[];
}

export interface LimitOptions {
  /** Allow a memory limit below current usage. */
  force?: boolean;
  /** Allow cgroups that are not containers (system slices, the machine's own). */
  allowSystem?: boolean;
}

export interface PlannedWrite {
  /** Absolute path of the cgroup file. */
  path: string;
  /** Value read before the change ("" if the file was empty). */
  oldValue: string;
  newValue: string;
}

export interface LimitPlan {
  container: { id: string; name: string };
  writes: PlannedWrite[];
  /** Human notes (e.g. "v2 has no soft limit: --memory-reservation sets memory.low"). */
  notes: string[];
}

export type Invocation = { via: 'cli' | 'dashboard' | 'http'; remoteAddress?: string };

export interface LimitResult {
  /** The audit record's id; `tstop limit undo <id>` takes it. */
  changeId: string;
  writes: PlannedWrite[];
}

/** Bad input or a refused change: the message names the flag, the value and why; nothing was written. */
export class LimitError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}

/** What the CLI, the dashboard and the HTTP API call; every method validates before it writes. */
export interface Limiter {
  /** Resolves the container reference and validates and plans the change; writes nothing. */
  plan(ref: string, request: LimitRequest, options?: LimitOptions): Promise<LimitPlan>;
  /** Applies a plan all-or-nothing with read-back, audited before it resolves. */
  apply(plan: LimitPlan, invocation: Invocation): Promise<LimitResult>;
  /** Freezes (true) or thaws (false), resolving once the kernel reports the state reached. */
  setFrozen(ref: string, frozen: boolean, invocation: Invocation): Promise<LimitResult>;
  /** Sends a signal to every process of the container (v2 cgroup.kill for SIGKILL). */
  kill(ref: string, signal: string, invocation: Invocation): Promise<LimitResult>;
}
