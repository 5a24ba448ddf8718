/** An expected failure is a value (STYLE.md). */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** A success. */
export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
/** A failure. */
export const fail = <E>(error: E): Result<never, E> => ({ ok: false, error });
