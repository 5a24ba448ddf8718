// The two mistakes a unit of work (`NodeStores.write`) can make that would otherwise hang or stall the node's single
// writer: opening a unit inside a unit, and awaiting something other than a store call. Both databases refuse them
// with one of these errors instead.

/** The error a unit of work gets when it breaks the unit-of-work rules; `code` names which rule. */
export class UnitOfWorkError extends Error {
  constructor(
    readonly code: 'nested-write' | 'awaited-outside-store',
    message: string,
  ) {
    super(message);
    this.name = 'UnitOfWorkError';
  }
}

/**
 * A `write` called from inside a running unit of work: the inner unit would wait for the outer one's transaction to
 * commit, and the outer one waits for the inner one — a deadlock. Call the store methods directly instead: inside a
 * unit they join its transaction.
 */
export function nestedWrite(): UnitOfWorkError {
  return new UnitOfWorkError(
    'nested-write',
    'write() was called inside a unit of work: a unit cannot open another (it would wait for its own commit); ' +
      'call the store methods directly — inside a unit they join its transaction',
  );
}

/**
 * A unit of work that awaited something other than a store call (a timer, an HTTP request, a Prisma call outside
 * the unit's transaction, another unit): the single writer would stay blocked — and, if that thing waits for a
 * write, forever. The unit is undone and fails with this error.
 */
export function awaitedOutsideStore(): UnitOfWorkError {
  return new UnitOfWorkError(
    'awaited-outside-store',
    'a unit of work awaited something other than a store call of its own transaction (a timer, a network call, a ' +
      'query outside the unit, another unit): the writer would stay blocked, so the unit was undone',
  );
}
