import type { z } from 'zod';
import {
  formatTime,
  PlacementAnswer,
  PlacementBatchAnswer,
  ROUTES,
  SCHEDULING_ROUTES,
  SelectionAnswer,
  summaryCeilingOf,
  SummaryAnswer,
  validate,
  type SchedulingFigures,
  type SubtreeSummary,
} from '@cpnet/protocol';
import { b64url } from '@cpnet/security';
import type { NodeContext } from '../context.ts';
import type { PeerPort, PlacementAsk } from './ports.ts';

/**
 * Placement requests in flight to one peer at most; placements asked meanwhile wait and go in the next, as a batch.
 * Placements asked in one turn of the event loop (a tenant's batch, the jobs of one group commit) go together too.
 */
const IN_FLIGHT = 2;
/** Placements in one request at most (PlacementBatch allows 100): a batch answers when its slowest placement does. */
const BATCH = 50;

interface Waiting {
  body: PlacementAsk;
  resolve: (r: PlacementAnswer) => void;
}
interface Lane {
  queue: Waiting[];
  inFlight: number;
  single: boolean;
  /** A pump is due at the end of this turn of the event loop. */
  gathering: boolean;
}

const refusal = (to: string, reason: string, summary: string): PlacementAnswer => ({
  ok: false,
  refusals: [{ node: to, reason }],
  summary,
});

/** What `nodePeers` uses of the node. */
type NodePeersDeps = Pick<NodeContext, 'clientFor' | 'config' | 'db' | 'deps' | 'outbox'>;

/** The one summary upward, as the node's aggregation makes it. */
export interface OneSummary {
  /** Whether the parent takes it (it advertised `one-summary`; see `sendsOneSummary`). */
  takes(): boolean;
  /** This subtree's summary with `figures` in `ext.scheduling`. */
  summary(figures: z.input<typeof SchedulingFigures>): SubtreeSummary;
}

/**
 * The peer port of a node: signed HTTP to its parent and children; relays and metering through the durable outbox.
 * The summary upward goes directly (never through the outbox: it is the heartbeat, only the newest matters, and the
 * ceiling comes back in the answer): as the one summary when `oneSummary` says the parent takes it, else on its own.
 */
export function nodePeers(ctx: NodePeersDeps, o: { oneSummary?: OneSummary } = {}): PeerPort {
  const endpoints = new Map<string, string>();
  async function endpointOf(prefix: string): Promise<string | null> {
    const known = endpoints.get(prefix);
    if (known) return known;
    const peer = await ctx.db.peers.byPrefix(prefix);
    const url =
      peer?.endpoint ??
      (peer?.relation === 'parent' || prefix === parentCode() ? (ctx.config.parentUrl ?? null) : null);
    if (url) endpoints.set(prefix, url);
    return url;
  }
  const parentCode = () => {
    const p = ctx.config.code.split('.');
    return p.length > 1 ? p.slice(0, -1).join('.') : null;
  };
  const post = async (to: string, path: string, body: unknown) => {
    const url = await endpointOf(to);
    if (!url) return { ok: false as const, error: `no endpoint known for ${to}` };
    const r = await ctx.clientFor(url).request({ method: 'POST', path, body });
    return r.ok
      ? { ok: true as const, value: r.value }
      : { ok: false as const, error: `${r.status}: ${r.error.message}` };
  };
  const durable = async (to: string, path: string, body: unknown) => {
    const url = await endpointOf(to);
    if (!url) {
      ctx.deps.logger.warn({ to, path }, 'no endpoint for a scheduling delivery; dropped');
      return;
    }
    await ctx.outbox.enqueue({ endpoint: url, path, body });
    ctx.outbox.kick();
  };
  const placeOne = async (to: string, body: PlacementAsk): Promise<PlacementAnswer> => {
    const r = await post(to, SCHEDULING_ROUTES.placements, body);
    if (!r.ok) return refusal(to, `unreachable: ${r.error}`, `${to} could not be asked: ${r.error}`);
    const v = validate(PlacementAnswer, r.value);
    return v.ok ? v.value : refusal(to, 'malformed answer', `${to} answered something else`);
  };
  // Placements wait in a lane per peer while IN_FLIGHT requests are out: an idle link sends what was asked in the
  // same turn of the event loop (setImmediate: after this turn's I/O callbacks and microtasks) as one request, a busy
  // one sends what gathered meanwhile as one batch. The first placement of a turn waits for nothing but the turn's end.
  // A peer that refuses batches (a node built before them answers 400) is asked one placement per request from then on.
  const lanes = new Map<string, Lane>();
  const sendBatch = async (to: string, lane: Lane, batch: Waiting[]): Promise<void> => {
    if (batch.length === 1 || lane.single) {
      await Promise.all(batch.map(async (w) => w.resolve(await placeOne(to, w.body))));
      return;
    }
    const url = await endpointOf(to);
    if (!url) {
      for (const w of batch)
        w.resolve(refusal(to, `unreachable: no endpoint known for ${to}`, `${to} could not be asked`));
      return;
    }
    const r = await ctx
      .clientFor(url)
      .request({ method: 'POST', path: SCHEDULING_ROUTES.placements, body: { placements: batch.map((w) => w.body) } });
    if (!r.ok && r.status === 400) {
      ctx.deps.logger.info(
        { to, error: r.error.message },
        'peer refuses placement batches; asking one placement per request',
      );
      lane.single = true;
      await sendBatch(to, lane, batch);
      return;
    }
    if (!r.ok) {
      for (const w of batch)
        w.resolve(
          refusal(to, `unreachable: ${r.status}: ${r.error.message}`, `${to} could not be asked: ${r.error.message}`),
        );
      return;
    }
    const v = validate(PlacementBatchAnswer, r.value);
    batch.forEach((w, i) => {
      const a = v.ok ? v.value.answers[i] : undefined;
      w.resolve(
        a && v.ok && v.value.answers.length === batch.length
          ? a
          : refusal(to, 'malformed answer', `${to} answered something else`),
      );
    });
  };
  const pump = (to: string, lane: Lane): void => {
    while (lane.inFlight < IN_FLIGHT && lane.queue.length > 0) {
      const batch = lane.queue.splice(0, BATCH);
      lane.inFlight++;
      void sendBatch(to, lane, batch)
        .catch((e: unknown) => {
          for (const w of batch) w.resolve(refusal(to, `unreachable: ${String(e)}`, `${to} could not be asked`));
        })
        .finally(() => {
          lane.inFlight--;
          pump(to, lane);
        });
    }
  };
  return {
    place(to, body) {
      return new Promise<PlacementAnswer>((resolve) => {
        let lane = lanes.get(to);
        if (!lane) {
          lane = { queue: [], inFlight: 0, single: false, gathering: false };
          lanes.set(to, lane);
        }
        lane.queue.push({ body, resolve });
        if (lane.gathering) return;
        lane.gathering = true;
        const l = lane;
        setImmediate(() => {
          l.gathering = false;
          pump(to, l);
        });
      });
    },
    async select(to, body) {
      const r = await post(to, SCHEDULING_ROUTES.selections, body);
      if (!r.ok) return null;
      const v = validate(SelectionAnswer, r.value);
      return v.ok ? v.value : null;
    },
    // Queued as a batch of one: the outbox merges the relays waiting for the same hop into one request.
    relay: (to, body) => durable(to, SCHEDULING_ROUTES.jobUpdates, { relays: [body] }),
    cancel: (to, body) => durable(to, SCHEDULING_ROUTES.cancels, body),
    async summary(figures) {
      const parent = parentCode();
      if (!parent || !ctx.config.parentUrl) return null;
      endpoints.set(parent, ctx.config.parentUrl);
      if (o.oneSummary?.takes()) {
        const summary = o.oneSummary.summary(figures);
        // A fresh key each time: the parent applies the newest by `at`; a lost one is superseded by the next.
        const key = `${ctx.config.code}/summary/${summary.at}/${b64url(ctx.deps.randomBytes(6))}`;
        const r = await post(parent, ROUTES.summaries, { items: [{ key, summary }] });
        return r.ok ? summaryCeilingOf(r.value) : null;
      }
      const body = { node: ctx.config.code, at: formatTime(ctx.deps.clock.now()), ...figures };
      const r = await post(parent, SCHEDULING_ROUTES.summaries, body);
      const v = r.ok ? validate(SummaryAnswer, r.value) : null;
      return v?.ok ? (v.value.ceiling ?? null) : null;
    },
    async metering(body) {
      const parent = parentCode();
      if (!parent || !ctx.config.parentUrl) return;
      endpoints.set(parent, ctx.config.parentUrl);
      await durable(parent, SCHEDULING_ROUTES.metering, body);
    },
  };
}
