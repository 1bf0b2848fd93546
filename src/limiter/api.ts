// The limiter's contract with its callers (CLI, dashboard, HTTP write API).
// A change is parsed and validated first, planned as file writes, applied
// all-or-nothing with read-back, and audited before success is reported.
// docs/limiter.md explains the rules behind each refusal.

import { ExpectedError } from '../util/errors.js';

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
  /** Allow a memory limit below current usage; undo a change whose files were changed since. */
  force?: boolean;
  /** Allow cgroups that are not containers (system slices, the machine's own). */
  allowSystem?: boolean;
  /** --for: restore the old values this long after the change is applied (src/limiter/expiry.ts). */
  forMs?: number;
}

export interface PlannedWrite {
  /** Absolute path of the cgroup file. */
  path: string;
  /** Value read before the change ("" if the file was empty). */
  oldValue: string;
  newValue: string;
}

/** keep: cancels the expiry of a change made with --for (`tstop limit keep ID`). */
export type LimitAction = 'limit' | 'undo' | 'freeze' | 'thaw' | 'kill' | 'keep';

export interface LimitPlan {
  /** What the plan does; absent means 'limit'. */
  action?: LimitAction;
  container: { id: string; name: string };
  writes: PlannedWrite[];
  /** Human notes (e.g. "v2 has no soft limit: --memory-reservation sets memory.low"). */
  notes: string[];
  /** For an undo: the change it undoes. */
  undoes?: string;
  /** --for: the old values come back this long after the change is applied. */
  forMs?: number;
  /** The plan was made with --allow-system (an expiry's revert needs it again). */
  allowSystem?: boolean;
  /** An undo made because the change it undoes expired (expiry-runner.ts). */
  expired?: boolean;
}

export type Invocation = {
  /** expiry: the revert of a change made with --for, at its deadline. */
  via: 'cli' | 'dashboard' | 'http' | 'guard' | 'expiry';
  remoteAddress?: string;
  /** via 'guard': the rule that acted. */
  rule?: string;
  /** The write API token's name (a token file's `name: token` line; "default" for a single token). */
  tokenName?: string;
};

export interface LimitResult {
  /** The audit record's id; `tstop limit undo <id>` takes it. */
  changeId: string;
  writes: PlannedWrite[];
  /** The plan's notes and any the apply step added. */
  notes?: string[];
  /** --for: when the old values come back (ISO 8601). */
  expiresAt?: string;
}

/**
 * Why a change was not made: invalid input (bad unit, unknown flag),
 * refused (root cgroup, not a container, below usage), not-found,
 * ambiguous (a prefix matching several containers), conflict (the files
 * changed since the plan was made), failed (the kernel or the audit log
 * said no; whatever was written has been restored).
 */
export type LimitErrorReason = 'invalid' | 'refused' | 'not-found' | 'ambiguous' | 'conflict' | 'failed';

/** Bad input or a refused change: the message names the flag, the value and why; nothing was written. */
export class LimitError extends ExpectedError {
  readonly reason: LimitErrorReason;
  constructor(message: string, exitCode = 2, reason?: LimitErrorReason) {
    super(message, exitCode);
    this.reason = reason ?? (exitCode === 2 ? 'invalid' : 'failed');
  }
}

/** An undo refused because someone else changed the change's files since: what each holds now. */
export class UndoConflictError extends LimitError {
  constructor(
    message: string,
    readonly found: { path: string; value: string; changeSet: string }[],
  ) {
    super(message, 2, 'conflict');
  }
}

export type ChangeResult =
  /** Written to the audit log before the first cgroup write; not (yet) confirmed. */
  | 'pending'
  | 'applied'
  /** A write or read-back failed; everything written was restored. */
  | 'rolled-back'
  /** The process making the change died before confirming it; a later run restored the old values. */
  | 'interrupted'
  /** An expiry's revert found a file changed by someone else since, and left it alone (`found`). */
  | 'skipped';

/** One line of the audit log (JSON Lines). The last line for an id is that change's state. */
export interface ChangeRecord {
  type: 'change';
  v: 1;
  id: string;
  /** ISO 8601 time of this record. */
  time: string;
  host: string;
  uid: number;
  user: string;
  /** SUDO_USER, when run through sudo. */
  sudoUser: string | null;
  pid: number;
  /** Start time of pid (clock ticks since boot), to tell a live process from a reused pid. */
  pidStart: number | null;
  via: Invocation['via'];
  remoteAddress: string | null;
  /** via 'guard': the rule that acted. */
  rule?: string;
  /** Which write API token made the change (via http only). */
  tokenName?: string;
  action: LimitAction;
  undoes: string | null;
  container: { id: string; name: string };
  writes: PlannedWrite[];
  /** kill: the signal and the processes it was sent to. */
  signal: string | null;
  pids: number[] | null;
  result: ChangeResult;
  error: string | null;
  notes: string[];
  /** --for: when the old values come back (ISO 8601); pending until a revert, keep or undo resolves it. */
  expiresAt?: string;
  /** The change was made with --allow-system (its expiry's revert is allowed the same). */
  allowSystem?: boolean;
  /** An undo made because the change it undoes expired. */
  expired?: boolean;
  /** A keep: the change whose expiry it cancels. */
  keeps?: string;
  /** A skipped revert: the values found in the files someone else changed since. */
  found?: { path: string; value: string; changeSet: string }[];
}

/** What the CLI, the dashboard and the HTTP API call; every method validates before it writes. */
export interface Limiter {
  /** Resolves the container reference and validates and plans the change; writes nothing. */
  plan(ref: string, request: LimitRequest, options?: LimitOptions): Promise<LimitPlan>;
  /**
   * Applies a plan all-or-nothing with read-back, audited before it resolves.
   * Refuses (reason 'conflict') if a file no longer holds the plan's old value.
   */
  apply(plan: LimitPlan, invocation: Invocation): Promise<LimitResult>;
  /** Freezes (true) or thaws (false), resolving once the kernel reports the state reached. */
  setFrozen(
    ref: string,
    frozen: boolean,
    invocation: Invocation,
    options?: LimitOptions & { timeoutMs?: number },
  ): Promise<LimitResult>;
  /** Sends a signal to every process of the container (v2 cgroup.kill for SIGKILL). */
  kill(ref: string, signal: string, invocation: Invocation, options?: LimitOptions): Promise<LimitResult>;
}

/** The audit trail of a Limiter that keeps one (the real one does; a face may use it for history and undo). */
export interface LimiterHistory {
  /** The audit log's changes, oldest first, each in its latest state; optionally for one container. */
  history(filter?: { ref?: string; last?: number }): Promise<ChangeRecord[]>;
  /** Plans restoring the old values of an applied change (an id or a unique prefix); apply() runs it. */
  planUndo(changeId: string, options?: LimitOptions): Promise<LimitPlan>;
}
