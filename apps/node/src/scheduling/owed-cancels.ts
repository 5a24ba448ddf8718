import { formatTime, PROTOCOL_VERSION } from '@cpnet/protocol';
import type { CancelMsg, GatewayPort, SchedulingDeps } from './ports.ts';

type Reason = CancelMsg['reason'];
interface Owed {
  cluster: string;
  job: string;
  /** The attempt of the run being stopped. */
  attempt: number;
  reason: Reason;
  sends: number;
}

/** Sends of one cancel before it is given up: one a tick, so 2 minutes of node time at the default `tickMs` (500). */
export const CANCEL_SENDS = 240;

/**
 * Stop orders that must reach the gateway. A run this node stops (preempted, replaced, failed back, cancelled) keeps
 * holding its cluster until the gateway hears the cancel; a cancel the gateway did not acknowledge because it was
 * away or silent (`UNAVAILABLE`) is sent again on the next tick until it is acknowledged. It is dropped when the job
 * has meanwhile been dispatched to that same cluster again (a later attempt runs there: the cancel names the job, not
 * the attempt, so sending it would stop the new run) and after `CANCEL_SENDS` sends. A refusal for another reason
 * (the gateway answered) is final. Node memory only: after a restart the gateway's own reports show what it still runs.
 */
export class OwedCancels {
  private readonly owed = new Map<string, Owed>();

  constructor(private readonly d: Pick<SchedulingDeps, 'log'> & { gateways: GatewayPort; now: () => number }) {}

  /** Stops `job`'s current run on `cluster`. */
  stop(cluster: string, job: { id: string; attempt: number }, reason: Reason): void {
    this.send({ cluster, job: job.id, attempt: job.attempt, reason, sends: 0 });
  }

  /**
   * Sends again what is owed (each tick). `current` tells where a job runs now (its cluster and attempt), or nothing
   * when this node no longer holds it.
   */
  resend(current: (job: string) => { cluster: string | null; attempt: number } | undefined): void {
    for (const [key, o] of [...this.owed]) {
      this.owed.delete(key);
      const now = current(o.job);
      if (now && now.cluster === o.cluster && now.attempt > o.attempt) continue;
      this.send(o);
    }
  }

  /** Cancels not yet acknowledged and waiting for the next tick. */
  get size(): number {
    return this.owed.size;
  }

  private send(o: Owed): void {
    const sends = o.sends + 1;
    void this.d.gateways
      .cancel(o.cluster, {
        protocol: PROTOCOL_VERSION,
        seq: 0,
        job: o.job,
        reason: o.reason,
        at: formatTime(this.d.now()),
      })
      .then((ack) => {
        if (ack.ok) return;
        if (ack.error.code !== 'UNAVAILABLE' || sends >= CANCEL_SENDS) {
          this.d.log?.warn(
            { job: o.job, cluster: o.cluster, sends, reason: ack.error.message },
            'cancel not acknowledged by the gateway; given up',
          );
          return;
        }
        const key = `${o.job} ${o.cluster}`;
        if (!this.owed.has(key)) this.owed.set(key, { ...o, sends });
      });
  }
}
