/**
 * Every error code of the wire contract, with its HTTP status and the CLI exit code it maps to.
 * Exit codes: 0 success; 1 what was checked failed; 2 invalid input or usage; 3 the environment failed.
 */
export const ERROR_CODES = {
  MALFORMED_JSON: { status: 400, exit: 2, title: 'The body is not valid JSON' },
  SCHEMA_VIOLATION: { status: 400, exit: 2, title: 'A field is missing, unknown or invalid' },
  INVALID_IDENTIFIER: { status: 400, exit: 2, title: 'An identifier is malformed' },
  INVALID_PREFIX: { status: 400, exit: 2, title: 'A prefix is malformed' },
  INVALID_CREDIT_CODE: { status: 400, exit: 2, title: 'A 统一社会信用代码 is invalid' },
  UNSUPPORTED_VERSION: { status: 400, exit: 2, title: 'The protocol version is missing or not supported' },
  UNAUTHENTICATED: { status: 401, exit: 2, title: 'The signature or token is missing or invalid' },
  REPLAYED: { status: 401, exit: 2, title: 'The message was already seen' },
  FORBIDDEN: { status: 403, exit: 2, title: 'The signer may not do this' },
  NOT_FOUND: { status: 404, exit: 2, title: 'No such resource' },
  CONFLICT: { status: 409, exit: 2, title: 'The resource exists or changed' },
  RULE_VIOLATION: { status: 422, exit: 2, title: 'The request breaks a rule of the guide' },
  DEADLINE_PASSED: { status: 422, exit: 2, title: 'Applications are closed' },
  PAYLOAD_TOO_LARGE: { status: 413, exit: 2, title: 'The body is over the size limit' },
  HEADERS_TOO_LARGE: { status: 431, exit: 2, title: 'The request line and headers are over the size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 2, title: 'The body must be application/json' },
  RATE_LIMITED: { status: 429, exit: 2, title: 'Too many requests' },
  UPSTREAM_UNAVAILABLE: { status: 503, exit: 3, title: 'A node this request needs cannot be reached' },
  UNAVAILABLE: { status: 503, exit: 3, title: 'The node is not ready' },
  INTERNAL: { status: 500, exit: 3, title: 'The node failed' },
} as const;

/** One of the wire contract's error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The error body of every failed request: `{ error: { code, message, field? } }`. */
export interface ErrorBody {
  readonly error: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly field?: string;
    /**
     * Facts that help the sender fix the request: on a refused signature, `serverTime` (the node's clock) and
     * `signatureBase` (the RFC 9421 base the node rebuilt and verified, to compare with the one signed).
     */
    readonly detail?: Readonly<Record<string, string>>;
  };
}

/** CLI exit codes. */
export const EXIT = { OK: 0, CHECK_FAILED: 1, INVALID_INPUT: 2, ENVIRONMENT: 3 } as const;

/** Builds an error body. */
export function errorBody(
  code: ErrorCode,
  message: string,
  at?: string | { readonly field?: string; readonly detail?: Readonly<Record<string, string>> },
): ErrorBody {
  const { field, detail } = typeof at === 'string' ? { field: at, detail: undefined } : (at ?? {});
  return {
    error: { code, message, ...(field === undefined ? {} : { field }), ...(detail === undefined ? {} : { detail }) },
  };
}

/** The HTTP status for an error code. */
export function httpStatus(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** The CLI exit code for an error code. */
export function exitCode(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}

/**
 * The code a client reads from a bare status, where a status has more than one code: the general one (400 is a
 * schema violation — malformed JSON and bad identifiers are special cases of it — and 503 an unreachable upstream).
 */
const GENERAL_CODE: Readonly<Partial<Record<number, ErrorCode>>> = {
  400: 'SCHEMA_VIOLATION',
  401: 'UNAUTHENTICATED',
  422: 'RULE_VIOLATION',
  503: 'UPSTREAM_UNAVAILABLE',
};

/** An error code for an HTTP status a peer returned (for clients that only see the status). */
export function codeForStatus(status: number): ErrorCode {
  const general = GENERAL_CODE[status];
  if (general) return general;
  const found = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === status);
  return found ?? (status >= 500 ? 'INTERNAL' : 'SCHEMA_VIOLATION');
}
