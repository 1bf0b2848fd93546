// How `tstop run/exec/ps/stop/rm` report a failure that is not a usage
// error: one line on stderr and docker run's exit codes.

import { LimitError } from '../limiter/api.js';
import { isExpectedError, UsageError } from '../util/errors.js';
import { CgroupSetupError } from './cgroup.js';
import { SpecError } from './spec.js';
import { LaunchError } from './state.js';

/** One line for tstop's own failures: 2 for bad input, 125 for the rest (as docker run). */
export function reportFailure(command: string, err: unknown): number {
  if (err instanceof UsageError) throw err;
  if (err instanceof LimitError) {
    process.stderr.write(`tstop: ${command}: ${err.message}\n`);
    return err.exitCode === 2 ? 2 : 125;
  }
  if (err instanceof LaunchError || err instanceof CgroupSetupError || err instanceof SpecError) {
    process.stderr.write(`tstop: ${command}: ${err.message}\n`);
    return err instanceof LaunchError ? err.exitCode : 125;
  }
  if (isExpectedError(err)) {
    process.stderr.write(`tstop: ${command}: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof Error && 'code' in err) {
    process.stderr.write(`tstop: ${command}: ${err.message}\n`);
    return 125;
  }
  throw err;
}
