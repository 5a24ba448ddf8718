import type { ErrorCode } from '@cpnet/protocol';

/** The error side of a client call: the HTTP status (0 when the node could not be reached) and the node's error. */
export interface ClientError {
  readonly status: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly field?: string;
}

/** What every client call returns: the parsed body on a 2xx, the node's error otherwise. Never throws for HTTP failures. */
export type ClientResult<T> =
  | { readonly ok: true; readonly status: number; readonly value: T }
  | { readonly ok: false; readonly status: number; readonly error: ClientError };
