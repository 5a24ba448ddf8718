import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAnswer, ed25519Profile } from '@cpnet/security';
import {
  application,
  applicationFile,
  cleanup,
  eventually,
  lifecycleOf,
  startTestNode,
  tempDir,
  type TestNode,
} from './nodes.ts';

let national: TestNode;
let regional: TestNode;
let industry: TestNode;

// The one summary upward every 200 ms; a child silent for 2 s is taken as down (10 s by default).
const SCHED = { summaryMs: 200, childDownAfterMs: 2000 };

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true, scheduling: SCHED });
  const rdir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: rdir,
    applicationFile: applicationFile(rdir),
    autoReview: true,
    scheduling: SCHED,
  });
  await eventually(async () => (await lifecycleOf(regional)) === 'online', 15_000);
  const idir = tempDir();
  industry = await startTestNode({
    role: 'industry',
    code: 'CPN.51.C151',
    parentUrl: regional.url,
    dataDir: idir,
    applicationFile: applicationFile(idir, { role: 'industry', industry: 'C151', name: '四川白酒行业节点' }),
    scheduling: SCHED,
  });
  await eventually(async () => (await lifecycleOf(industry)) === 'online', 20_000);
}, 60_000);

afterAll(async () => {
  for (const n of [industry, regional, national]) await n?.stop();
  cleanup();
});

describe('onboarding national → regional → industry', () => {
  it('brings the regional and industry nodes online with certificates and ND records', async () => {
    const info = await industry.anon.node();
    expect(info.ok && info.value).toMatchObject({ code: 'CPN.51.C151', lifecycle: 'online', parent: 'CPN.51' });
    expect(info.ok && info.value.certificate).toContain('BEGIN CERTIFICATE');
    const apps = await national.self.applications();
    const forwarded = apps.ok
      ? apps.value.items.find((a) => (a.ext as { applicant?: string }).applicant === 'CPN.51.C151')
      : undefined;
    expect(forwarded?.status).toBe('approved');
    expect(forwarded?.reviews.map((r) => r.review.decision)).toEqual(['recommend', 'approve']);
    const nd = await regional.anon.list({ prefix: 'CPN.51' });
    expect(
      nd.ok &&
        nd.value.items.some(
          (r) => r.kind === 'ND' && (r.values[0]?.data as { prefix: string }).prefix === 'CPN.51.C151',
        ),
    ).toBe(true);
  });

  it('stores joint-debugging results both ways, with the list version', async () => {
    const atRegional = await regional.anon.jointDebugResults();
    const runs = atRegional.ok ? atRegional.value.items : [];
    expect(
      runs.some((r) => r.by === 'CPN.51' && r.target === 'CPN.51.C151' && r.passed && r.listVersion === '1.1'),
    ).toBe(true);
    expect(runs.some((r) => r.by === 'CPN.51.C151' && r.target === 'CPN.51' && r.passed)).toBe(true);
    const atNational = await national.anon.jointDebugResults();
    expect(
      atNational.ok && atNational.value.items.some((r) => r.by === 'CPN' && r.target === 'CPN.51.C151' && r.passed),
    ).toBe(true);
  });
});

describe('identifiers across the hierarchy', () => {
  it('resolves a record from every node, signed by its owner', async () => {
    const r = await industry.self.register({
      kind: 'CL',
      values: [{ index: 1, type: 'CPN_CLUSTER', data: { name: '宜宾集群' }, ttl: 1 }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    for (const n of [national, regional, industry]) {
      const a = await n.anon.resolve(r.value.id);
      expect(a.ok && a.value).toMatchObject({ answeredBy: 'CPN.51.C151', authoritative: true });
      if (!a.ok) continue;
      const { signature, ...answer } = a.value;
      const key = ed25519Profile.importPublicKey(
        ((await industry.anon.node()) as { ok: true; value: { publicKey: string } }).value.publicKey,
      );
      expect((await verifyAnswer({ answer, signature }, { keyid: 'CPN.51.C151', publicKey: key })).ok).toBe(true);
    }
    // Up to the national node, which answers for its own ND record and says 404 for a serial it never issued.
    const up = await industry.anon.resolve(`CPN/ND-16Q`);
    expect(up.ok && up.value).toMatchObject({ answeredBy: 'CPN', authoritative: true, record: { id: 'CPN/ND-16Q' } });
    const none = await industry.anon.resolve(`CPN/ND-261`);
    expect(none.ok ? 200 : none.status).toBe(404);
  });

  it("answers from an ancestor's copy, not authoritative, when the owner is down", async () => {
    const r = await industry.self.register({
      kind: 'SV',
      values: [{ index: 1, type: 'URL', data: 'https://baijiu.example.cn', ttl: 0 }],
    });
    if (!r.ok) throw new Error(r.error.message);
    await eventually(async () => {
      const list = await national.anon.list({ prefix: 'CPN.51.C151' });
      return list.ok && list.value.items.some((x) => x.id === r.value.id);
    });
    await industry.stop();
    // The national node sends the query down to the regional node, whose copy answers (nearest ancestor holding one).
    const a = await national.anon.resolve(r.value.id);
    expect(a.ok && a.value).toMatchObject({ answeredBy: 'CPN.51', authoritative: false });
    expect(a.ok && a.value.record.id).toBe(r.value.id);
    const b = await regional.anon.resolve(r.value.id);
    expect(b.ok && b.value.authoritative).toBe(false);
    industry = await startTestNode({
      role: 'industry',
      code: 'CPN.51.C151',
      parentUrl: regional.url,
      dataDir: industry.dir,
      port: Number(new URL(industry.url).port),
      scheduling: SCHED,
    });
    expect(await lifecycleOf(industry)).toBe('online');
  });
});

describe('rules', () => {
  it('refuses a second regional node for a province, and a rule-breaking application, with reasons', async () => {
    const dir = tempDir();
    const second = await startTestNode({
      role: 'regional',
      code: 'CPN.44',
      parentUrl: national.url,
      dataDir: dir,
      applicationFile: applicationFile(dir, {
        region: '44',
        builder: {
          name: '小公司',
          creditCode: '91440300MA5FAAAA39',
          registeredCapitalWanYuan: 100,
          fundingCapacityDeclared: true,
        },
        operator: { name: '运营', creditCode: '91510100MA6CYYYY26', telecomLicence: null },
      }),
    });
    await eventually(async () => (await lifecycleOf(second)) === 'rejected');
    const apps = await national.self.applications();
    const app = apps.ok
      ? apps.value.items.find((a) => (a.ext as { applicant?: string }).applicant === 'CPN.44')
      : undefined;
    expect(app?.status).toBe('rejected');
    expect(app?.reasons.map((r) => r.rule).sort()).toEqual(['capital', 'telecom-licence']);
    await second.stop();
    const dup = application({ region: '51' });
    void dup;
  });

  it('keeps a non-national node retrying while its parent is unreachable, without exiting', async () => {
    const dir = tempDir();
    const orphan = await startTestNode({
      role: 'regional',
      code: 'CPN.33',
      parentUrl: 'http://127.0.0.1:9',
      dataDir: dir,
      applicationFile: applicationFile(dir, { region: '33' }),
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await lifecycleOf(orphan)).toBe('applied');
    await orphan.stop();
  });
});

describe('emergency response', () => {
  it('suspends an industry node across the hierarchy within seconds and reinstates it', async () => {
    const started = Date.now();
    const s = await national.self.emergency({ target: 'CPN.51.C151', action: 'suspend', reason: '安全事件处置演练' });
    expect(s.ok && s.value.lifecycle).toBe('suspended');
    await eventually(async () => (await lifecycleOf(industry)) === 'suspended', 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    const refused = await industry.self.register({ kind: 'SV', values: [{ index: 1, type: 'T', data: 1 }] });
    expect(refused.ok ? 0 : refused.status).toBe(403);
    const r = await national.self.emergency({ target: 'CPN.51.C151', action: 'reinstate', reason: '处置完毕' });
    expect(r.ok).toBe(true);
    await eventually(async () => (await lifecycleOf(industry)) === 'online', 10_000);
  });
});

/** How many requests to `route` a node answered with `status`, from its /metrics. */
async function answered(n: TestNode, route: string, status = 200): Promise<number> {
  const text = await (await fetch(`${n.url}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^cpn_http_requests_total\{([^}]*)\} (\d+)$/gm))
    if (m[1]!.includes(`route="${route}"`) && m[1]!.includes(`status="${status}"`)) total += Number(m[2]);
  return total;
}

/** The node.health events a node raised about `child` going down (by silence: no summary). */
async function downs(n: TestNode, child: string): Promise<number> {
  const r = await n.anon.request<{ items: { subject: string; data: { health?: string } }[] }>({
    method: 'GET',
    path: '/cpn/v1/events?type=node.health&limit=1000',
  });
  if (!r.ok) throw new Error(r.error.message);
  return r.value.items.filter((e) => e.subject === child && e.data.health === 'down').length;
}

describe('one summary upward (issue 21)', () => {
  it('sends the scheduling figures in ext.scheduling of the subtree summary, and no scheduling summary', async () => {
    expect(industry.node.context.settings.getJson<string[]>('peer.capabilities.CPN.51')).toContain('one-summary');
    expect(regional.node.context.settings.getJson<string[]>('peer.capabilities.CPN')).toContain('one-summary');
    const row = await eventually(async () => {
      const rows = await regional.node.context.db.providers.childSummaries();
      const r = rows.find((x) => x.node === 'CPN.51.C151');
      return r && (JSON.parse(r.summary) as { ext?: { scheduling?: unknown } }).ext?.scheduling ? r : null;
    });
    expect(JSON.parse(row.summary)).toMatchObject({ node: 'CPN.51.C151', ext: { scheduling: { clusters: 0 } } });
    // (Before the joint-debugging handshake a child sends the 1.0 pair; once online, only the one summary.)
    const count = (n: TestNode) =>
      Promise.all([answered(n, '/cpn/v1/summaries'), answered(n, '/cpn/v1/scheduling/summaries')]);
    const [one, two] = [await count(national), await count(regional)];
    await new Promise((r) => setTimeout(r, 1000));
    // About five a second (one every 200 ms) to each parent, straight to /cpn/v1/summaries; none to the 1.0 route.
    for (const [n, [summaries, scheduling]] of [
      [national, one],
      [regional, two],
    ] as const) {
      const [s2, sc2] = await count(n);
      expect(s2 - summaries).toBeGreaterThanOrEqual(2);
      expect(sc2).toBe(scheduling);
    }
  });

  it('does not take a child as down while its outbox holds a backlog to a dead peer, whose copies still go up', async () => {
    const ctx = industry.node.context;
    // A dead receiver's backlog at the head of the queue, backing off: it holds up only its own deliveries.
    const DEAD = 'http://127.0.0.1:9';
    const BACKLOG = 10_000;
    const body = { job: 'CPN.51.C151/JB-1', reason: 'cancelled', attempt: 1, at: new Date(0).toISOString() };
    await Promise.all(
      Array.from({ length: BACKLOG }, () =>
        ctx.outbox.enqueue({ endpoint: DEAD, path: '/cpn/v1/scheduling/cancels', body }),
      ),
    );
    try {
      const downsBefore = await downs(regional, 'CPN.51.C151');
      const heardBefore = await answered(regional, '/cpn/v1/summaries');
      // Three times childDownAfterMs.
      await new Promise((r) => setTimeout(r, 3 * SCHED.childDownAfterMs));
      expect(await ctx.outbox.depth()).toBeGreaterThanOrEqual(BACKLOG);
      expect(await answered(regional, '/cpn/v1/summaries')).toBeGreaterThan(heardBefore + 5);
      expect(await downs(regional, 'CPN.51.C151')).toBe(downsBefore);
      // A record registered behind the backlog reaches the parent's copy (queued behind 10,000 deliveries to the dead
      // peer, it waited for their backoff before: up to `retry.maxMs` at a time). Bound: 5 s of wall time, ~0.1 s seen.
      const r = await industry.self.register({
        kind: 'SV',
        values: [{ index: 1, type: 'URL', data: 'https://backlog.example.cn', ttl: 60 }],
      });
      if (!r.ok) throw new Error(r.error.message);
      await eventually(async () => {
        const list = await regional.anon.list({ prefix: 'CPN.51.C151' });
        return list.ok && list.value.items.some((x) => x.id === r.value.id);
      }, 5000);
      expect(await ctx.outbox.depth()).toBeGreaterThanOrEqual(BACKLOG);
      // What an operator's scrape shows: the failed attempts to the dead peer, and one peer backing off (read until
      // seen: between the end of a backoff and the next attempt, a moment long, no peer is backing off).
      await eventually(async () => {
        const scrape = await (await fetch(`${industry.url}/metrics`)).text();
        const failed = /cpn_outbox_failed_total\{path="\/cpn\/v1\/scheduling\/cancels"[^}]*\} (\d+)/.exec(scrape);
        return Number(failed?.[1]) > 0 && /cpn_outbox_peers_backing_off(\{[^}]*\})? 1\n/.test(scrape);
      }, 5000);
    } finally {
      const stuck = (await ctx.db.outbox.oldest(BACKLOG + 1000)).filter(
        (d) => (JSON.parse(d.payload) as { endpoint: string }).endpoint === DEAD,
      );
      await ctx.db.write(() => ctx.db.outbox.remove(stuck.map((d) => d.id)));
    }
  }, 30_000);
});
