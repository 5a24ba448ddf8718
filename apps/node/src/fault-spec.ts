/**
 * Behaviours a conformance fault fixture switches off, so that `cpnet check` can be shown to fail exactly the checks
 * of that behaviour against an otherwise real node. Test-only: set through `NodeDeps.faults`, never through the
 * configuration file, the environment or the command line.
 */
export interface NodeFaults {
  /**
   * Deliveries to these paths are dropped when queued: a node that never forwards summaries, or loses job updates.
   * Dropping summaries keeps the node on the 1.0 path (`sendsOneSummary`), where its subtree summary goes through the
   * outbox and its scheduling summary on its own: only the subtree summary is lost.
   */
  readonly dropDeliveries?: readonly string[];
  /** Emergency orders on a provider or cluster are answered as applied but not applied. */
  readonly ignoreMemberOrders?: boolean;
}
