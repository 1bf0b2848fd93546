// A new container's limits, through the limiter's own code: parseRequest
// (units, ranges, flag relations), planLimit (v1/v2 translation, host
// facts) and the same path checks before every write (checkTargetPath +
// verifyTarget: a known limit file, inside a cgroup mount, no symlinks).
// Not audited: a container's initial limits are part of starting it, as
// docker run's are. Loaded only when a run has limits.

import type { CgroupMounts } from '../cgroupfs/mounts.js';
import type { LimitRequest, PlannedWrite } from '../limiter/api.js';
import { CgroupFiles } from '../limiter/cgroup.js';
import { readHostFacts } from '../limiter/host.js';
import { planLimit } from '../limiter/plan.js';
import { parseRequest, type ParsedRequest } from '../limiter/plan/request.js';
import { checkTargetPath, errnoWords, verifyTarget, writeTarget } from '../limiter/safety.js';
import { CgroupSetupError, hasLimits } from './cgroup.js';

/** Parses and checks the limits before anything exists (LimitError, exit 2, on bad input). */
export function checkLimits(req: LimitRequest): ParsedRequest | null {
  if (!hasLimits(req)) return null;
  // Device paths are looked up only when a device flag is given (the lookup reads /sys).
  const needsDevices = (['deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'] as const).some(
    (k) => (req[k]?.length ?? 0) > 0,
  );
  const lookup = needsDevices ? readHostFacts().lookupDevice : () => 'missing' as const;
  return parseRequest(req, lookup);
}

/**
 * Plans the limits against the new cgroup and writes them. Docker's default
 * for --memory without --memory-swap is as much swap as memory (memory+swap
 * = 2 x memory) where the kernel accounts swap. Returns the planner's notes.
 */
export function applyLimits(
  mounts: CgroupMounts,
  cgroupPath: string,
  parsed: ParsedRequest,
): { writes: PlannedWrite[]; notes: string[] } {
  const files = new CgroupFiles(mounts, cgroupPath);
  const req: ParsedRequest = { ...parsed };
  if (typeof req.memory === 'number' && req.memorySwap === undefined) {
    const swapFile = files.kind('memory') === 'v1' ? 'memory.memsw.limit_in_bytes' : 'memory.swap.max';
    if (files.has('memory', swapFile)) req.memorySwap = req.memory * 2;
  }
  const plan = planLimit(req, files, readHostFacts(), { force: true }, cgroupPath);
  for (const w of plan.writes) {
    const target = checkTargetPath(mounts, w.path);
    verifyTarget(target);
    try {
      writeTarget(target, w.newValue);
    } catch (err) {
      throw new CgroupSetupError(`writing ${w.newValue} to ${w.path} failed: ${errnoWords(err)}`);
    }
  }
  return plan;
}
