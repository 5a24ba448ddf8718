import type { Outbox } from './links/outbox.ts';
import type { MemberOrders } from './aggregation/emergency.ts';

import type { NodeFaults } from './fault-spec.ts';

export type { NodeFaults } from './fault-spec.ts';

const RESULT = { suspend: 'suspended', reinstate: 'active', revoke: 'revoked' } as const;

/** The outbox with `faults.dropDeliveries` switched on (the outbox itself when there are none). */
export function faultyOutbox(outbox: Outbox, faults: NodeFaults | undefined): Outbox {
  const drop = new Set(faults?.dropDeliveries ?? []);
  if (drop.size === 0) return outbox;
  return {
    ...outbox,
    enqueue: (d) => (drop.has(d.path) ? Promise.resolve() : outbox.enqueue(d)),
    enqueueInTransaction: (d) => (drop.has(d.path) ? Promise.resolve() : outbox.enqueueInTransaction(d)),
  };
}

/** Member orders with `faults.ignoreMemberOrders` switched on (the orders themselves otherwise). */
export function faultyMemberOrders(orders: MemberOrders, faults: NodeFaults | undefined): MemberOrders {
  if (!faults?.ignoreMemberOrders) return orders;
  return ({ order }) => Promise.resolve({ target: order.target, lifecycle: RESULT[order.action] });
}
