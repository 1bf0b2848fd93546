// A startup failure of `tstop export` that is the environment's, not a bug:
// the CLI prints its message on one line and exits 1 (it has a `code`).

import { ExpectedError } from '../util/errors.js';

export class ExportStartupError extends ExpectedError {
  constructor(message: string) {
    super(message, 1);
  }
}
