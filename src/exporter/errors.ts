// A startup failure of `tstop export` that is the environment's, not a bug:
// the CLI prints its message on one line and exits 1 (it has a `code`).

export class ExportStartupError extends Error {
  readonly code = 'EEXPORTSTARTUP';
  constructor(message: string) {
    super(message);
    this.name = 'ExportStartupError';
  }
}
