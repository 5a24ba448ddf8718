import { EXIT } from '@cpnet/protocol';

/** Thrown by a command to end with an exit code and a message on stderr (no stack trace). */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Invalid input or usage: exit 2. */
export function invalidInput(message: string): CliExit {
  return new CliExit(EXIT.INVALID_INPUT, message);
}

/** The environment failed (port in use, unreadable folder): exit 3. */
export function environmentFailed(message: string): CliExit {
  return new CliExit(EXIT.ENVIRONMENT, message);
}
