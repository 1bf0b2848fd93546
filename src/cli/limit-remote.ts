// `tstop limit --remote URL --token-file F <container> --memory 1g`: the
// change goes through that node's write API (src/limiter/remote.ts) instead
// of this host's cgroups. The flags are checked here; the plan, the question
// and the printing are limit.ts's, as for a local change.

import fs from 'node:fs';
import { RemoteLimiter, readTokenFile } from '../limiter/remote.js';
import { UsageError } from '../util/errors.js';
import { durationFlag, stringFlag, type ParsedFlags } from './command.js';

/** Flags that act on this host only: meaningless with --remote. */
const LOCAL_ONLY = ['audit-log', 'lock-timeout', 'root', 'docker-root', 'runc-root', 'podman-root', 'containerd-root'];
const REMOTE_ONLY = ['token-file', 'remote-ca-file', 'remote-timeout'];

/** The RemoteLimiter --remote asks for, or null for a local change; every flag checked first. */
export function remoteLimiterFromFlags(flags: ParsedFlags): RemoteLimiter | null {
  const url = stringFlag(flags, 'remote');
  if (url === undefined) {
    for (const name of REMOTE_ONLY) if (flags[name] !== undefined) throw new UsageError(`--${name} needs --remote URL`);
    return null;
  }
  for (const name of LOCAL_ONLY) {
    if (flags[name] !== undefined)
      throw new UsageError(`--${name} applies to this host; it cannot be used with --remote`);
  }
  const tokenFile = stringFlag(flags, 'token-file');
  if (tokenFile === undefined) throw new UsageError('--remote needs --token-file FILE (the write API token)');
  const caFile = stringFlag(flags, 'remote-ca-file');
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = fs.readFileSync(caFile);
    } catch (err) {
      throw new UsageError(`--remote-ca-file: cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? err})`);
    }
  }
  const timeoutMs = durationFlag(flags, 'remote-timeout', '30s');
  if (timeoutMs <= 0) throw new UsageError('--remote-timeout: must be above 0');
  return new RemoteLimiter({ url, token: readTokenFile(tokenFile), ca, timeoutMs });
}
