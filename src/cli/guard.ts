// `tstop guard`: its flags to a GuardRunner over the live collection.

import fs from 'node:fs';
import { Collector } from '../collect/collector.js';
import { detectCgroupMounts } from '../cgroupfs/mounts.js';
import { GuardRunner } from '../guard/runner.js';
import { parseGuardConfig, type GuardRule, type HostAbilities } from '../guard/rules.js';
import { createLimiter } from '../limiter/limiter.js';
import { ExpiryAgent } from '../limiter/expiry-agent.js';
import { UsageError } from '../util/errors.js';
import { untilStopSignal } from '../util/signals.js';
import { collectorOptions } from './collection-flags.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';

/** Whether this host can freeze: a v1 freezer hierarchy or cgroup v2 (cgroup.freeze). */
export function hostAbilities(root: string): HostAbilities {
  const mounts = detectCgroupMounts(root);
  return { freezer: mounts.hierarchies.some((h) => h.kind === 'v2' || h.controllers.includes('freezer')) };
}

/** Reads and checks a rules file (at most 1 MiB). */
export function loadGuardRules(file: string, host: HostAbilities): GuardRule[] {
  let text: string;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new UsageError(`--config ${file}: not a regular file`);
      if (st.size > 1 << 20) throw new UsageError(`--config ${file}: larger than 1 MiB`);
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseGuardConfig(text, file, host);
}

export async function runGuard(flags: ParsedFlags): Promise<number> {
  const file = stringFlag(flags, 'config');
  if (file === undefined) throw new UsageError('give the rules: --config FILE');
  const intervalMs = durationFlag(flags, 'interval', '1s');
  if (intervalMs < 100) throw new UsageError('--interval: at least 100ms');
  const options = collectorOptions(flags);
  const rules = loadGuardRules(file, hostAbilities(options.root ?? '/'));
  if (flags.check === true) {
    process.stdout.write(`${file}: ${rules.length} rule${rules.length === 1 ? '' : 's'}, valid\n`);
    return 0;
  }
  const dryRun = flags['dry-run'] === true;
  const collector = new Collector({ ...options, watch: true });
  const limiter = dryRun
    ? null
    : createLimiter({ root: options.root, collector: options, auditLog: stringFlag(flags, 'audit-log') });
  const log = (line: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  };
  const runner = new GuardRunner({ rules, source: collector, limiter, dryRun, log });
  // A guard that acts is an agent: it runs the audit log's expiries (its own limit --for among them).
  const expiries = limiter
    ? new ExpiryAgent(
        { auditFile: limiter.audit.file, root: options.root, limiter: () => limiter },
        { role: 'guard', log },
      ).start()
    : null;
  log(`guard: ${rules.length} rule(s) from ${file}, every ${intervalMs} ms${dryRun ? ', dry run' : ''}`);
  const loop = runner.loop(intervalMs, collector.ready());
  await untilStopSignal();
  try {
    await loop.stop();
    await expiries?.stop();
  } finally {
    collector.close();
  }
  return 0;
}
