import { createRng, deriveSeed } from '@cpnet/kernel';
import { createClient, type NodeClient } from '@cpnet/client';
import type { JobStream } from '../scenario/schema.ts';
import { now, type RunContext } from './context.ts';
import type { TraceJob } from '../trace/alibaba.ts';
import { processTime } from '../clock/virtual-clock.ts';
import { stopwatch } from '@cpnet/kernel/system';

/** A job as the node reports it. */
export interface JobView {
  readonly id: string;
  readonly state: string;
  readonly cluster: string | null;
  readonly history: ReadonlyArray<{ state: string; at: string; node: string; cluster?: string }>;
}

const FINAL = new Set(['finished', 'failed', 'cancelled']);

/** Tenants' clients, one per (node, tenant), created as a person would get one: an account and a token. */
export function createTenants(ctx: Pick<RunContext, 'net' | 'clock'>) {
  // Tokens live an hour of virtual time; a long run (the demo, the scale run) renews them well before they expire.
  const RENEW_AFTER_MS = 45 * 60_000;
  const clients = new Map<string, { client: Promise<NodeClient>; at: number }>();
  /** A token lives this long (virtual ms: the `ttlSeconds` below). */
  const TOKEN_MS = 3600_000;
  const renewals = new Map<string, Promise<NodeClient>>();
  const signIn = (node: string, tenant: string): Promise<NodeClient> =>
    (async () => {
      const sim = ctx.net.nodes.get(node);
      if (!sim?.running) throw new Error(`the node ${node} jobs are submitted to is not running`);
      const account =
        tenant
          .toLowerCase()
          .replace(/[^a-z0-9._-]/g, '-')
          .slice(0, 60) || 'tenant';
      // An account that already exists (a renewal, a second stream of the same tenant) is fine.
      const made = await sim
        .self()
        .createAccount({ id: account, name: tenant, role: 'tenant', password: 'simulated-tenant' });
      // Its failure (a timeout on a loaded machine) is the reason to give, not the token refusal that follows.
      if (!made.ok && made.error.code !== 'CONFLICT')
        throw new Error(`no tenant account at ${node}: ${made.status} ${made.error.message}`);
      const t = await sim.anon().token({ account, password: 'simulated-tenant', ttlSeconds: TOKEN_MS / 1000 });
      if (!t.ok) throw new Error(`no tenant token at ${node}: ${t.error.message}`);
      return createClient({ baseUrl: ctx.net.urlOf(node), token: t.value.token, clock: ctx.clock, timeoutMs: 30_000 });
    })();
  return (node: string, tenant: string): Promise<NodeClient> => {
    const key = `${node}|${tenant}`;
    const held = clients.get(key);
    if (held && ctx.clock.now() - held.at < RENEW_AFTER_MS) return held.client;
    if (held) {
      // Renewed in the background, the held client serving meanwhile while its token has five minutes or more left:
      // arrivals that waited for the new token went out together when it came, a burst the scenario did not ask for.
      // A token nearer its end (or long expired: after a clock jump) is not used; the new one is awaited.
      let next = renewals.get(key);
      if (!next) {
        const at = ctx.clock.now();
        const made = signIn(node, tenant);
        next = made;
        renewals.set(key, made);
        void made
          .then(
            () => clients.set(key, { client: made, at }),
            () => undefined, // the next call tries again
          )
          .finally(() => renewals.delete(key));
      }
      return ctx.clock.now() - held.at < TOKEN_MS - 5 * 60_000 ? held.client : next;
    }
    const client = signIn(node, tenant);
    clients.set(key, { client, at: ctx.clock.now() });
    // A failed attempt is not kept, so the next call tries again.
    client.catch(() => clients.delete(key));
    return client;
  };
}

/** The user's province of a stream's job `index` (the stream's list in turn), or null. */
function userProvinceOf(stream: JobStream, index: number): string | null {
  return stream.userProvinces ? stream.userProvinces[index % stream.userProvinces.length]! : null;
}

/** A stream's job as sent: the wire template (the scenario's `data` in `ext.data`, the user's province). */
function jobOf(stream: JobStream, index: number) {
  const userProvince = userProvinceOf(stream, index);
  // The scenario's `data` rides in the wire template's `ext.data` (the node maps it to the scheduler's task data).
  const { data, ...wire } = stream.template;
  const withData = data ? { ...wire, ext: { ...wire.ext, data } } : wire;
  const template = userProvince ? { ...withData, constraints: { ...withData.constraints, userProvince } } : withData;
  return { template, userProvince, data: data ?? null };
}

/** Records a job the node acknowledged, for the checks and the checker. */
function accepted(
  ctx: RunContext,
  o: { stream: JobStream; index: number; job: JobView },
): { ok: true; detail: string } {
  const { stream, index, job } = o;
  ctx.jobs.push({
    id: job.id,
    node: stream.submitTo,
    stream: stream.name,
    tenant: stream.tenant,
    latencyTolerant: stream.template.latencyTolerant,
    userProvince: userProvinceOf(stream, index),
    data: stream.template.data ?? null,
    submittedAt: now(ctx),
    index,
  });
  ctx.checker.ack({ key: `job:${job.id}`, kind: 'job', at: now(ctx) });
  return { ok: true, detail: job.id };
}

/** Submits one job of a stream; an acknowledged submission is recorded for the checker. */
export async function submitOne(
  ctx: RunContext,
  o: { stream: JobStream; index: number },
): Promise<{ ok: boolean; detail: string }> {
  const { stream } = o;
  const { template } = jobOf(stream, o.index);
  const client = await ctx.tenantClient(stream.submitTo, stream.tenant);
  const key = `${ctx.scenario.name}-${stream.name}-${o.index}-${ctx.faker.string.alphanumeric(10)}`;
  const elapsed = stopwatch();
  const r = await ctx.clock.governor.load.track(
    client.request<JobView>({ method: 'POST', path: '/cpn/v1/jobs', body: { template, idempotencyKey: key } }),
  );
  // Real milliseconds until the node answered: placed (across the hierarchy if need be) and dispatched, or queued.
  ctx.submitMs.push(elapsed());
  if (!r.ok) return { ok: false, detail: `${r.status} ${r.error.message}` };
  return accepted(ctx, { stream, index: o.index, job: r.value });
}

/** Batch requests of one stream in flight at once; arrivals beyond them wait and go out together in the next. */
export const BATCHES_IN_FLIGHT = 4;

/** One job's outcome in a batch answer (`JobBatchItem` of the protocol, as far as the simulator reads it). */
type BatchItem = { status: number; job?: JobView; error?: { code: string; message: string } };

/**
 * A stream's submissions in batches (`batch` > 1), as a tenant's tooling would send a queue: while fewer than
 * `BATCHES_IN_FLIGHT` requests are unanswered an arrival goes out at once (alone when the node keeps up, so a quiet
 * stream is not delayed); beyond that, arrivals wait and the next free request takes up to `batch` of them
 * (`POST /cpn/v1/job-batches`). Each job's latency runs from its arrival to the batch's answer, the wait included.
 */
export function batchSubmitter(
  ctx: RunContext,
  stream: JobStream,
): (index: number) => Promise<{ ok: boolean; detail: string }> {
  type Waiting = { index: number; elapsed: () => number; done: (r: { ok: boolean; detail: string }) => void };
  const queue: Waiting[] = [];
  let inFlight = 0;
  const send = async (batch: Waiting[]) => {
    const settle = (i: number, r: { ok: boolean; detail: string }) => {
      ctx.submitMs.push(batch[i]!.elapsed());
      batch[i]!.done(r);
    };
    try {
      const client = await ctx.tenantClient(stream.submitTo, stream.tenant);
      const key = `${ctx.scenario.name}-${stream.name}-b${batch[0]!.index}-${ctx.faker.string.alphanumeric(10)}`;
      const r = await ctx.clock.governor.load.track(
        client.request<{ items: BatchItem[] }>({
          method: 'POST',
          path: '/cpn/v1/job-batches',
          body: { jobs: batch.map((w) => ({ template: jobOf(stream, w.index).template })), idempotencyKey: key },
        }),
      );
      if (!r.ok) {
        batch.forEach((_, i) => settle(i, { ok: false, detail: `${r.status} ${r.error.message}` }));
        return;
      }
      batch.forEach((w, i) => {
        const item = r.value.items[i];
        if (item?.status === 201 && item.job) settle(i, accepted(ctx, { stream, index: w.index, job: item.job }));
        else settle(i, { ok: false, detail: `${item?.status ?? 'no answer'} ${item?.error?.message ?? ''}`.trim() });
      });
    } catch (e) {
      batch.forEach((_, i) => settle(i, { ok: false, detail: (e as Error).message }));
    }
  };
  const pump = () => {
    while (inFlight < BATCHES_IN_FLIGHT && queue.length > 0) {
      const batch = queue.splice(0, stream.batch);
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  };
  return (index) =>
    new Promise((done) => {
      queue.push({ index, elapsed: stopwatch(), done });
      pump();
    });
}

/** Virtual ms before a stream's start at which its tenant signs in. */
const SIGN_IN_LEAD_MS = 30_000;

/** Runs a stream's arrivals in the background on the virtual clock; resolves when every job was submitted. */
export function runStream(
  ctx: RunContext,
  o: { stream: JobStream; stopped: () => boolean; onRefusal: (detail: string) => void },
): Promise<void> {
  const { stream } = o;
  // Arrival times are drawn up front from the stream's own sequence (the seed fixes them), as offsets from its start.
  const rng = createRng(deriveSeed(ctx.seed, `stream:${stream.name}`));
  const offsets: number[] = [];
  let t = 0;
  for (let i = 0; i < stream.count; i++) {
    t +=
      stream.arrival.kind === 'burst'
        ? 0
        : stream.arrival.kind === 'uniform'
          ? stream.arrival.every
          : -Math.log(1 - rng.next()) * (60_000 / stream.arrival.perMinute);
    offsets.push(t);
  }
  return (async () => {
    // The tenant signs in before its first arrival, as a person logs in and then works. Signed in at the first
    // submission, the account and token held back every arrival meanwhile, and those went out together when it came:
    // at speed 30 a burst of 50–110 submissions in the first half second of wall time (the steady rate ~40), whose
    // queueing was the ladder's submit p99 (bench/README.md "The ladder's first second"). A sign-in slower than the
    // lead starts the stream later (its arrivals keep their spacing); one that fails is tried again at the first
    // submission, as before.
    const signIn = stream.start - SIGN_IN_LEAD_MS - now(ctx);
    if (signIn > 0) await ctx.clock.sleep(signIn);
    await ctx.tenantClient(stream.submitTo, stream.tenant).catch(() => undefined);
    const wait = stream.start - now(ctx);
    if (wait > 0) await ctx.clock.sleep(wait);
    const start = Math.max(stream.start, now(ctx));
    await submitOnSchedule(ctx, {
      count: stream.count,
      dueAt: (i) => start + offsets[i]!,
      submit: stream.batch > 1 ? batchSubmitter(ctx, stream) : (i) => submitOne(ctx, { stream, index: i }),
      stopped: o.stopped,
      onRefusal: o.onRefusal,
    });
  })();
}

/** Submissions awaited at once at most: beyond this many unanswered, arrivals wait (a node that stopped answering). */
const WINDOW = 256;
/** Wall ms at most that one wait for room in the window holds virtual time still (then time runs on; the stream is late). */
const HOLD_MAX_MS = 5000;

/**
 * Holds virtual time still while an arrival that is due waits for room in the window: the offered load is part of the
 * run, so time does not run past arrivals the system has not taken yet (at `max` the streams otherwise fell thousands
 * of jobs behind their schedule, and the final checks judged a workload not yet submitted). Capped at `HOLD_MAX_MS`
 * of wall time per wait, so a node that stopped answering cannot stop time for everyone.
 */
function holdTime(ctx: Pick<RunContext, 'clock'>): () => void {
  const release = ctx.clock.governor.slow(0);
  // Wall time: the cap protects the run from a node that never answers, whatever virtual time does.
  const cap = processTime.setTimeout(release, HOLD_MAX_MS);
  return () => {
    cap.cancel();
    release();
  };
}

/**
 * Submits at each arrival time (virtual), open loop: a slow answer does not delay the next arrival, so the offered
 * rate is the scenario's whatever the latency (a closed loop would hide overload by slowing down with it).
 */
export async function submitOnSchedule(
  ctx: Pick<RunContext, 'clock' | 'advanced'>,
  o: {
    count: number;
    dueAt: (i: number) => number;
    submit: (i: number) => Promise<{ ok: boolean; detail: string }>;
    stopped: () => boolean;
    onRefusal: (detail: string) => void;
  },
): Promise<void> {
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < o.count && !o.stopped(); i++) {
    const wait = o.dueAt(i) - now(ctx);
    if (wait > 0) await ctx.clock.sleep(wait);
    while (pending.size >= WINDOW) {
      const release = holdTime(ctx);
      await Promise.race(pending);
      release();
    }
    const p: Promise<void> = o
      .submit(i)
      .then(
        (r) => {
          if (!r.ok) o.onRefusal(r.detail);
        },
        (e: Error) => o.onRefusal(e.message),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
}

/**
 * Reads every submitted job's view from the node it was submitted to, as its tenant would, and keeps its digest
 * (`JobDigest`): the node's job list, a page of 1,000 at a time (one request per page, not per job; each page is
 * digested as it arrives, so no more than a page of whole views is held). A job the list does not hold maps to null
 * (the node says it has no such job); the jobs of a list that could not be read are `unreadable` (no evidence either way). Only the jobs
 * acknowledged when the call began are read (`jobs`: those given instead); a job acknowledged while the lists are read
 * may or may not be on a page already read, so it says nothing about the node (the caller reads it again: `after`).
 */
export async function readJobs(
  ctx: RunContext,
  o: { jobs?: RunContext['jobs']; after?: ReadonlyMap<string, string> } = {},
): Promise<Map<string, JobDigest | null> & { unreadable: string[]; listed: Map<string, string[]> }> {
  const out = Object.assign(new Map<string, JobDigest | null>(), {
    unreadable: [] as string[],
    /** Per `node|tenant`, the ids the list held in its order (the node's id order): where a later read may start. */
    listed: new Map<string, string[]>(),
  });
  const groups = new Map<string, { node: string; tenant: string; ids: string[] }>();
  for (const j of o.jobs ?? ctx.jobs.slice()) {
    const key = `${j.node}|${j.tenant}`;
    const g = groups.get(key) ?? { node: j.node, tenant: j.tenant, ids: [] };
    g.ids.push(j.id);
    groups.set(key, g);
  }
  const digest = digester();
  for (const [key, g] of groups) {
    const seen = await listJobs(ctx, { node: g.node, tenant: g.tenant, after: o.after?.get(key) }, digest);
    if (!seen) {
      out.unreadable.push(...g.ids);
      continue;
    }
    for (const id of g.ids) out.set(id, seen.get(id) ?? null);
    out.listed.set(key, [...seen.keys()]);
  }
  return out;
}

/**
 * What the checks keep of a listed job, and nothing more: its state, where it ran, the final states its history holds
 * and whether it was replaced. A node's job view also carries the template, the demand and every step of the history,
 * and the final checks hold every job of the run at once (the scale run's peak RSS was reached there; the
 * 1,000,000-job variant's by far, at ~1 KiB a job when the whole history was kept).
 */
export interface JobDigest {
  readonly state: string;
  /** The job's cluster, else the last one its history names (null: it never reached one). */
  readonly cluster: string | null;
  /** The final states its history holds, in order (exactly one once it ended). */
  readonly finals: readonly string[];
  /** Whether its history holds a `replaced` step. */
  readonly replaced: boolean;
}

/**
 * Digests job views, sharing what many jobs repeat: one string per state and cluster, one (frozen) array per list of
 * final states.
 */
export function digester(): (v: JobView) => JobDigest {
  const strings = new Map<string, string>();
  const intern = (s: string): string => {
    const held = strings.get(s);
    if (held !== undefined) return held;
    strings.set(s, s);
    return s;
  };
  const finalLists = new Map<string, readonly string[]>();
  return (v) => {
    let last: string | null = null;
    let replaced = false;
    const finals: string[] = [];
    for (const h of v.history) {
      if (h.cluster) last = h.cluster;
      if (FINAL.has(h.state)) finals.push(h.state);
      else if (h.state === 'replaced') replaced = true;
    }
    const key = finals.join(' ');
    let shared = finalLists.get(key);
    if (!shared) finalLists.set(key, (shared = Object.freeze(finals.map(intern))));
    const cluster = v.cluster ?? last;
    return { state: intern(v.state), cluster: cluster === null ? null : intern(cluster), finals: shared, replaced };
  };
}

/**
 * A tenant's jobs at a node, all pages (from `after`, exclusive, when given); null when a page could not be read (node
 * down, token refused, timeout).
 */
async function listJobs(
  ctx: RunContext,
  list: { node: string; tenant: string; after: string | undefined },
  digest: (v: JobView) => JobDigest,
): Promise<Map<string, JobDigest> | null> {
  const { node, tenant, after } = list;
  const client = await ctx.tenantClient(node, tenant).catch(() => null);
  if (!client) return null;
  const seen = new Map<string, JobDigest>();
  let cursor: string | null = after ?? null;
  do {
    const query: string = new URLSearchParams(cursor ? { limit: '1000', cursor } : { limit: '1000' }).toString();
    const r = await client.request<{ items: JobView[]; next: string | null }>({
      method: 'GET',
      path: `/cpn/v1/jobs?${query}`,
    });
    if (!r.ok) return null;
    for (const v of r.value.items) seen.set(v.id, digest(v));
    cursor = r.value.next;
  } while (cursor);
  return seen;
}

/** True for a final job state. */
export const isFinal = (state: string): boolean => FINAL.has(state);

/** Turns a trace's jobs into a stream-like schedule: each job submitted at its arrival (scaled by `speedup`). */
export function runTrace(
  ctx: RunContext,
  o: {
    jobs: readonly TraceJob[];
    submitTo: string;
    speedup: number;
    startAt: number;
    stopped: () => boolean;
    onRefusal: (detail: string) => void;
  },
): Promise<void> {
  return (async () => {
    if (o.startAt > now(ctx)) await ctx.clock.sleep(o.startAt - now(ctx));
    const start = now(ctx);
    await submitOnSchedule(ctx, {
      count: o.jobs.length,
      dueAt: (i) => start + (o.jobs[i]!.arrivalS * 1000) / o.speedup,
      stopped: o.stopped,
      onRefusal: o.onRefusal,
      submit: (i) => {
        const j = o.jobs[i]!;
        const stream: JobStream = {
          name: 'trace',
          submitTo: o.submitTo,
          tenant: 'trace-tenant',
          count: 1,
          start: 0,
          arrival: { kind: 'burst' },
          batch: 1,
          template: {
            name: j.name,
            demand: {
              cpuCores: j.cpuCores,
              memoryGib: j.memoryGib,
              storageGib: 0,
              bandwidthGbps: 0,
              ...(j.gpus > 0 ? { accelerators: { count: j.gpus } } : {}),
            },
            replicas: 1,
            placement: 'single',
            durationHours: j.durationS / 3600 / o.speedup,
            constraints: {},
            objective: 'balanced',
            latencyTolerant: j.latencyTolerant,
            priority: 100,
          },
        };
        return submitOne(ctx, { stream, index: i });
      },
    });
  })();
}
