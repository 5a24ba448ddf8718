import { agedPriority, vectorOf, type FairVector, type Task } from '@cpnet/scheduler';
import { PlacementCore } from './placement.ts';
import { admissionRound, runningOf } from './admission.ts';

/** The capacity a round is given when no job waits (it is not read then). */
const NO_CAPACITY: FairVector = { cpuCores: 0, memoryGib: 0, cards: 0 };

/**
 * Fair admission at a node, the loop half (`admission.ts` decides a round): which jobs submitted here wait for this
 * node's own capacity, the round run every tick — admitted ones placed in fair order, the head tried once per free
 * capacity (it may preempt), the others told why they wait and offered to other nodes every `retryMs`.
 */
export abstract class FairAdmissionCore extends PlacementCore {
  /** The free capacity each fair-waiting job last saw, and the wait reason last recorded for it. */
  private readonly fairSeen = new Map<
    string,
    { freeKey: string; why: string; failedAt?: string; headTriedAt?: string }
  >();

  /** The jobs submitted here that wait for this node's own capacity (queued, and no bigger than all of it). */
  protected fairWaiting(): { ids: Set<string>; capacity: FairVector } {
    const ids = new Set<string>();
    if (!this.options.fairness) return { ids, capacity: NO_CAPACITY };
    const queued = [...this.jobs.values()].filter((j) => j.state === 'queued' && j.origin === this.me);
    // Nothing queued here (a node's usual state, asked every tick): the sum over its clusters is not needed.
    if (queued.length === 0) return { ids, capacity: NO_CAPACITY };
    const capacity = this.view.activeCapacity();
    for (const j of queued) {
      const v = vectorOf(this.taskOf(j));
      if (v.cpuCores <= capacity.cpuCores && v.memoryGib <= capacity.memoryGib && v.cards <= capacity.cards)
        ids.add(j.id);
    }
    return { ids, capacity };
  }

  /** What runs on this node's own clusters now (the held jobs with slices here) and when each ends. */
  private runningHere(): { task: Task; end: number }[] {
    return this.view.scheduler
      .jobs()
      .filter((h) => h.slices.length > 0)
      .map(runningOf);
  }

  /**
   * Fair admission (`scheduling.fairness`): the jobs waiting for this node's capacity are admitted by weighted DRF
   * among tenants with aging and backfill (`admission.ts`); each admitted one is placed (the whole plan, as a retry)
   * when the free capacity changed since its last try or `retryMs` passed. One not admitted records why it waits
   * (its tenant's share) and is offered only to other nodes every `retryMs`, so this node's freed capacity goes in
   * fair order. Answers the ids it handled (the plain retry loop leaves them alone).
   */
  protected async admitRound(): Promise<Set<string>> {
    const { ids, capacity } = this.fairWaiting();
    if (ids.size === 0 || !this.options.fairness) return ids;
    const now = this.now();
    const waiting = [...ids].map((id) => {
      const j = this.jobs.get(id)!;
      return { id, task: this.taskOf(j), since: j.submittedAt };
    });
    const input = {
      capacity,
      waiting,
      running: this.runningHere(),
      now,
      fairness: this.options.fairness,
    };
    let round = admissionRound(input);
    // A job admitted on the totals but not placed at this same free capacity (a constraint no free cluster meets,
    // fragmentation) takes no share of it until the capacity changes: it would hold back the jobs behind it.
    const stuck = (id: string): boolean => this.fairSeen.get(id)?.failedAt === round.freeKey;
    if (round.admit.some(stuck)) round = admissionRound({ ...input, waiting: waiting.filter((w) => !stuck(w.id)) });
    const due = (id: string): boolean =>
      now - (this.lastTry.get(id) ?? 0) >= this.options.retryMs ||
      now - (this.jobs.get(id)?.submittedAt ?? 0) >= this.options.maxQueueMs;
    for (const id of round.admit) {
      if (this.fairSeen.get(id)?.freeKey === round.freeKey && !due(id)) continue;
      this.fairSeen.set(id, { freeKey: round.freeKey, why: this.fairSeen.get(id)?.why ?? '' });
      // From the template's priority (not one it aged to before, were it preempted and queued again).
      const w = waiting.find((x) => x.id === id)!;
      const base = { task: { ...w.task, priority: this.jobs.get(id)!.template.priority }, since: w.since };
      this.admittedAt.set(id, agedPriority(base, now, this.options.fairness.agingPerHour));
      await this.retry(id);
      if (this.jobs.get(id)?.state === 'queued') this.fairSeen.get(id)!.failedAt = round.freeKey;
    }
    // The head does not fit the free capacity, but its placement may preempt lower-priority work (as before fair
    // admission): it is tried once per free capacity (and every `retryMs`), keeping its place in the queue.
    const head = round.head;
    if (head && (this.fairSeen.get(head)?.headTriedAt !== round.freeKey || due(head))) {
      const seen = this.fairSeen.get(head);
      this.fairSeen.set(head, {
        ...seen,
        freeKey: seen?.freeKey ?? '',
        why: seen?.why ?? '',
        headTriedAt: round.freeKey,
      });
      await this.retry(head);
    }
    // Why the others wait, with the shares after this round's admissions (notes written from the round's start
    // would give the shares before them, one round stale). Jobs still queued only; a stuck one stays out.
    const still = this.fairWaiting().ids;
    const notes = admissionRound({
      ...input,
      waiting: waiting.filter((w) => still.has(w.id) && !stuck(w.id)),
      running: this.runningHere(),
    }).why;
    const local = this.view.ids();
    for (const [id, why] of notes) {
      // Past the maximum wait: the retry fails it, with its reasons.
      if (now - (this.jobs.get(id)?.submittedAt ?? now) >= this.options.maxQueueMs) {
        await this.retry(id);
        continue;
      }
      await this.lock.run(id, async () => {
        const j = this.jobs.get(id);
        if (!j || j.state !== 'queued') return;
        if (due(id)) {
          // Other nodes may take it; this node's own capacity goes in fair order.
          if (this.d.parent || this.liveChildren().length > 0) {
            await this.placeOrQueue(j, { exclude: [], excludeClusters: local, allowUp: true });
            if (j.state !== 'queued') return void (await this.flush(j));
          } else this.lastTry.set(id, now);
        }
        const seen = this.fairSeen.get(id);
        // The last entry says why it waits (not the other nodes' refusals just recorded).
        if (seen?.why === why && j.history.at(-1)?.detail === why.slice(0, 1900)) return;
        this.fairSeen.set(id, { ...seen, freeKey: seen?.freeKey ?? '', why });
        this.record(j, { state: 'queued', node: this.me, detail: why.slice(0, 1900) });
        await this.flush(j);
      });
    }
    // A stuck one (left out of the round) is still retried every `retryMs`, and fails after `maxQueueMs`.
    const admitted = new Set(round.admit);
    for (const id of ids) if (!admitted.has(id) && !notes.has(id) && due(id)) await this.retry(id);
    for (const id of this.fairSeen.keys()) if (!ids.has(id)) this.fairSeen.delete(id);
    for (const id of this.admittedAt.keys()) if (!this.jobs.has(id)) this.admittedAt.delete(id);
    return ids;
  }
}
