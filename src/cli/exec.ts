// `tstop exec`: its flags to options, then the launcher's exec
// (src/launcher/exec.ts). Loaded lazily by src/cli/commands/run.ts.

import path from 'node:path';
import { execInContainer } from '../launcher/exec.js';
import { parseEnvFlags } from '../launcher/options.js';
import { UsageError } from '../util/errors.js';
import { collectorOptions } from './collection-flags.js';
import { listFlag, stringFlag, type ParsedFlags } from './command.js';

export function execCli(flags: ParsedFlags, positionals: string[]): Promise<number> {
  const [ref, ...argv] = positionals;
  if (ref === undefined) throw new UsageError('give the container and the command (tstop exec <container> CMD)');
  if (argv.length === 0 || argv[0] === '') throw new UsageError('give the command to run in the container');
  const workdir = stringFlag(flags, 'workdir');
  if (workdir !== undefined && !path.isAbsolute(workdir)) {
    throw new UsageError(`--workdir '${workdir}': must be an absolute path`);
  }
  return execInContainer(ref, argv, {
    env: parseEnvFlags(listFlag(flags, 'env')),
    workdir,
    user: stringFlag(flags, 'user'),
    interactive: flags.interactive === true,
    tty: flags.tty === true,
    collector: collectorOptions(flags),
  });
}
