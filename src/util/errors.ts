// The one base class for failures tstop expects (bad input, a refused
// action, a missing file): the CLI prints the message as one line and exits
// with exitCode; anything else is a bug and gets a stack.

export class ExpectedError extends Error {
  /** 1: the operation failed; 2: bad usage or input; 125: a launch failed before the workload ran. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command line or input value: one clear line, exit code 2. */
export class UsageError extends ExpectedError {
  constructor(message: string) {
    super(message, 2);
  }
}

export function isExpectedError(err: unknown): err is ExpectedError {
  return err instanceof ExpectedError;
}
