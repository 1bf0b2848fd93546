// Runs one command with its arguments: help, flag parsing, and the exit code
// of every failure users should see (mapped once, here). Shared by the CLI's
// entry (main.ts) and the launcher's (launch-main.ts).

import { ExpectedError, UsageError } from '../util/errors.js';
import { helpText, parseCommandLine, wantsHelp, type CommandSpec } from './command.js';

export async function runCommand(cmd: CommandSpec, rest: string[]): Promise<number> {
  if (wantsHelp(cmd, rest)) {
    process.stdout.write(helpText(cmd));
    return 0;
  }
  try {
    const { flags, positionals } = parseCommandLine(cmd, rest);
    return await cmd.run(flags, positionals);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(`${cmd.name}: ${err.message}`);
    if (err instanceof ExpectedError) return expectedFailure(err);
    throw err; // a bug: the stack says where
  }
}

export function usageFailure(message: string): number {
  process.stderr.write(`tstop: ${message}\n`);
  return 2;
}

/** Expected failures (no cgroups, a refused change, a missing file) get one line and their exit code. */
function expectedFailure(err: ExpectedError): number {
  process.stderr.write(`tstop: ${err.message}\n`);
  return err.exitCode;
}
