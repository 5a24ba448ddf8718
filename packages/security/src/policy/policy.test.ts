import { describe, expect, it } from 'vitest';
import { identifier } from '../testing/fixtures.ts';
import { createPolicy } from './engine.ts';
import type { AccessRequest, Action, Principal, Resource } from './types.ts';

const node = (prefix: string, status: Principal['status'] = 'active'): Principal => ({
  kind: 'node',
  id: prefix,
  prefix,
  status,
});
const person = (id: string, role: Principal['role'], where: string | [string, Principal['status']]): Principal => {
  const [prefix, status] = typeof where === 'string' ? [where, 'active' as const] : where;
  return { kind: 'person', id, role, prefix, status };
};
const PV = identifier('CPN.51.C151', 'PV', '01JQ4ZK8M3XX');
const PV2 = identifier('CPN.51.C151', 'PV', '01JQ4ZK8M3YY');
const GW = identifier('CPN.51.C151', 'SV', '7ZZZA3');
const provider: Principal = { kind: 'provider', id: PV, prefix: 'CPN.51.C151', status: 'active', owner: PV };
const gateway: Principal = { kind: 'gateway', id: GW, prefix: 'CPN.51.C151', status: 'active', owner: PV };
const revokedProvider: Principal = { ...provider, status: 'revoked' };

const national = node('CPN'),
  sichuan = node('CPN.51'),
  guangdong = node('CPN.44'),
  baijiu = node('CPN.51.C151'),
  chips = node('CPN.51.C397');
const cluster = (owner: string, prefix = 'CPN.51.C151'): Resource => ({
  type: 'cluster',
  prefix,
  owner,
  id: `${prefix}/CL-1`,
});
const prefixRes = (p: string): Resource => ({ type: 'prefix', prefix: p, id: p });
const nodeRes = (p: string): Resource => ({ type: 'node', prefix: p, id: p });
const app = (routedTo: string, reviewers: string[] = []): Resource => ({
  type: 'application',
  prefix: routedTo,
  routedTo,
  reviewers,
});
const job = (prefix: string, owner = 't1', ownerNode = prefix): Resource => ({ type: 'job', prefix, owner, ownerNode });

type Row = [string, Principal, Action, Resource, boolean, AccessRequest['context']?];
const ROWS: Row[] = [
  // a node acts only on its own subtree
  ['regional updates a cluster in its subtree', sichuan, 'update', cluster(PV), true],
  ['industry updates a cluster in its own prefix', baijiu, 'update', cluster(PV), true],
  ['national reads anything', national, 'read', cluster(PV), true],
  ['sibling industry cannot update', chips, 'update', cluster(PV), false],
  ['other region cannot update', guangdong, 'update', cluster(PV), false],
  ['child cannot act on its parent namespace', baijiu, 'update', cluster(PV, 'CPN.51'), false],
  ['regional cannot act on another province', sichuan, 'delete', cluster(PV, 'CPN.44.C397'), false],
  ['node reads its audit log', sichuan, 'read', { type: 'audit', prefix: 'CPN.51' }, true],
  ['node cannot read a sibling audit log', sichuan, 'read', { type: 'audit', prefix: 'CPN.44' }, false],
  // prefixes and nodes
  ['national allocates a regional prefix', national, 'allocate', prefixRes('CPN.51'), true],
  ['regional cannot allocate a regional prefix', sichuan, 'allocate', prefixRes('CPN.52'), false],
  ['regional cannot allocate its own prefix', sichuan, 'allocate', prefixRes('CPN.51'), false],
  ['regional allocates an industry prefix below it', sichuan, 'allocate', prefixRes('CPN.51.C276'), true],
  ['regional cannot allocate in another province', sichuan, 'allocate', prefixRes('CPN.44.C397'), false],
  ['national cannot skip a level', national, 'allocate', prefixRes('CPN.51.C276'), false],
  ['industry cannot allocate prefixes', baijiu, 'allocate', prefixRes('CPN.51.C152'), false],
  [
    'operator person cannot allocate a regional prefix',
    person('op0', 'operator', 'CPN'),
    'allocate',
    prefixRes('CPN.52'),
    false,
  ],
  ['regional suspends its child', sichuan, 'suspend', nodeRes('CPN.51.C151'), true],
  ['national revokes a regional node', national, 'revoke', nodeRes('CPN.51'), true],
  ['node cannot revoke itself', sichuan, 'revoke', nodeRes('CPN.51'), false],
  ['node cannot suspend its parent', baijiu, 'suspend', nodeRes('CPN.51'), false],
  ['node updates its own record', baijiu, 'update', nodeRes('CPN.51.C151'), true],
  ['node cannot reinstate a sibling', chips, 'reinstate', nodeRes('CPN.51.C151'), false],
  // revoked or suspended principals
  ['suspended node is denied', node('CPN.51.C276', 'suspended'), 'read', cluster(PV, 'CPN.51.C276'), false],
  ['revoked regional node is denied', node('CPN.51', 'revoked'), 'update', cluster(PV), false],
  ['revoked provider is denied its own records', revokedProvider, 'update', cluster(PV), false],
  ['suspended operator is denied', person('op1', 'operator', ['CPN.51.C151', 'suspended']), 'read', cluster(PV), false],
  // providers change only their own records
  ['provider updates its own cluster', provider, 'update', cluster(PV), true],
  ['provider reports for its own cluster', provider, 'report', cluster(PV), true],
  ['provider cannot update another provider cluster', provider, 'update', cluster(PV2), false],
  ['provider cannot create a cluster outside its prefix', provider, 'create', cluster(PV, 'CPN.51.C397'), false],
  ['gateway reports for its provider', gateway, 'report', cluster(PV), true],
  ['gateway cannot report for another provider', gateway, 'report', cluster(PV2), false],
  ['provider reads records of its node', provider, 'read', { type: 'record', prefix: 'CPN.51.C151', owner: 'x' }, true],
  ['provider cannot suspend a node', provider, 'suspend', nodeRes('CPN.51.C151'), false],
  ['provider cannot allocate', provider, 'allocate', prefixRes('CPN.51.C151'), false],
  // reviewers act only on applications routed to them
  [
    'national reviewer reviews a regional application',
    person('r1', 'reviewer', 'CPN'),
    'review',
    app('CPN', ['r1']),
    true,
  ],
  ['reviewer not assigned is denied', person('r9', 'reviewer', 'CPN'), 'review', app('CPN', ['r1']), false],
  [
    'regional reviewer cannot review a national-routed application',
    person('r2', 'reviewer', 'CPN.51'),
    'review',
    app('CPN', ['r2']),
    false,
  ],
  [
    'regional reviewer reviews an industry application',
    person('r2', 'reviewer', 'CPN.51'),
    'review',
    app('CPN.51', ['r2']),
    true,
  ],
  ['operator cannot review', person('op2', 'operator', 'CPN.51'), 'review', app('CPN.51', ['op2']), false],
  ['node reviews applications routed to it', sichuan, 'review', app('CPN.51'), true],
  ['node cannot review applications routed elsewhere', guangdong, 'review', app('CPN.51'), false],
  // people
  ['operator updates a cluster in its subtree', person('op3', 'operator', 'CPN.51'), 'update', cluster(PV), true],
  ['operator cannot revoke a node', person('op3', 'operator', 'CPN.51'), 'revoke', nodeRes('CPN.51.C151'), false],
  ['viewer reads its subtree', person('v1', 'viewer', 'CPN.51'), 'read', cluster(PV), true],
  ['viewer cannot update', person('v1', 'viewer', 'CPN.51'), 'update', cluster(PV), false],
  ['viewer cannot read applications', person('v1', 'viewer', 'CPN.51'), 'read', app('CPN.51', ['v1']), false],
  ['tenant submits a job at its node', person('t1', 'tenant', 'CPN.51.C151'), 'submit', job('CPN.51.C151'), true],
  ['tenant cannot submit elsewhere', person('t1', 'tenant', 'CPN.51.C151'), 'submit', job('CPN.44'), false],
  ['tenant reads its own job', person('t1', 'tenant', 'CPN.51.C151'), 'read', job('CPN.51.C151', 't1'), true],
  [
    'tenant cannot read another tenant job',
    person('t2', 'tenant', 'CPN.51.C151'),
    'read',
    job('CPN.51.C151', 't1'),
    false,
  ],
  [
    'tenant cannot read a same-named tenant job of another node',
    person('t1', 'tenant', 'CPN.44'),
    'read',
    job('CPN.44', 't1', 'CPN.51'),
    false,
  ],
  ['tenant cannot update clusters', person('t1', 'tenant', 'CPN.51.C151'), 'update', cluster(PV), false],
  // data residency, decided by protocol's residencyVerdict
  [
    'placement in an allowed province',
    sichuan,
    'place',
    job('CPN.51'),
    true,
    { residency: { provinces: ['51'] }, province: '51' },
  ],
  [
    'placement outside the allowed provinces',
    national,
    'place',
    job('CPN.51'),
    false,
    { residency: { provinces: ['44'] }, province: '51' },
  ],
  [
    'placement outside the mainland without permission',
    national,
    'place',
    job('CPN'),
    false,
    { residency: {}, province: '81' },
  ],
  [
    'tenant submit with residency allowing the province',
    person('t1', 'tenant', 'CPN.51.C151'),
    'submit',
    job('CPN.51.C151'),
    true,
    { residency: { provinces: ['51'] }, province: '51' },
  ],
  // default deny
  ['unknown action is denied', national, 'run' as Action, nodeRes('CPN'), false],
  [
    'an unknown principal kind is denied',
    { kind: 'robot' as never, id: 'x', prefix: 'CPN', status: 'active' },
    'read',
    cluster(PV),
    false,
  ],
];

describe('the authorisation policy', async () => {
  const policy = await createPolicy();
  it('has at least 40 rows', () => expect(ROWS.length).toBeGreaterThanOrEqual(40));
  it.each(ROWS)('%s', (...row) => {
    const [, principal, action, resource, expected, context] = row;
    const d = policy.decide({ principal, action, resource, context });
    expect(d.allowed, d.reason).toBe(expected);
    expect(d.reason.length).toBeGreaterThan(0);
  });
  it('names the deny rule and the residency reason', () => {
    const d = policy.decide({
      principal: national,
      action: 'place',
      resource: job('CPN.51'),
      context: { residency: { provinces: ['44'] }, province: '51' },
    });
    expect(d).toMatchObject({ allowed: false, rule: 'data-residency', reason: expect.stringContaining('44') });
    expect(policy.decide({ principal: revokedProvider, action: 'read', resource: cluster(PV) })).toMatchObject({
      rule: 'inactive-principal',
    });
    expect(policy.decide({ principal: chips, action: 'update', resource: cluster(PV) })).toMatchObject({
      rule: null,
      reason: expect.stringContaining('default deny'),
    });
  });
  it('remembers decisions per request, not across different requests (each row decided twice, in reverse too)', () => {
    const fresh = ROWS.map(([, principal, action, resource, , context]) =>
      policy.decide({ principal, action, resource, context }),
    );
    const again = [...ROWS]
      .reverse()
      .map(([, principal, action, resource, , context]) => policy.decide({ principal, action, resource, context }))
      .reverse();
    expect(again).toEqual(fresh);
    expect(fresh.map((d) => d.allowed)).toEqual(ROWS.map((r) => r[4]));
    // The same principal suspended is a different question with a different answer.
    const active = policy.decide({ principal: national, action: 'read', resource: nodeRes('CPN') });
    const suspended = policy.decide({
      principal: { ...national, status: 'suspended' },
      action: 'read',
      resource: nodeRes('CPN'),
    });
    expect(active.allowed).toBe(true);
    expect(suspended.allowed).toBe(false);
    expect(Object.isFrozen(active)).toBe(true);
  });

  it('decides once for resources that differ only by id, which no shipped rule reads; a rule that reads it keys by it', async () => {
    const one = policy.decide({ principal: provider, action: 'update', resource: cluster(PV) });
    const other = policy.decide({
      principal: provider,
      action: 'update',
      resource: { ...cluster(PV), id: 'CPN.51.C151/CL-2' },
    });
    expect(one.allowed).toBe(true);
    // The remembered decision: the same frozen object.
    expect(other).toBe(one);
    // A rule set whose condition reads the id: the two requests are two questions with two answers.
    const byId = await createPolicy([
      {
        name: 'only-cl-1',
        sub: 'r.sub.kind == "provider"',
        obj: 'r.obj.id == "CPN.51.C151/CL-1"',
        act: '*',
        eft: 'allow',
        why: 'test: one cluster only',
      },
    ]);
    expect(byId.decide({ principal: provider, action: 'update', resource: cluster(PV) }).allowed).toBe(true);
    const refused = byId.decide({
      principal: provider,
      action: 'update',
      resource: { ...cluster(PV), id: 'CPN.51.C151/CL-2' },
    });
    expect(refused.allowed).toBe(false);
  });
});
