import { ExpectedError } from '../../util/errors.js';

/** A refused or failed image operation (load, rmi, a bad reference): one line, exit 1. */
export class ImageError extends ExpectedError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
  }
}
