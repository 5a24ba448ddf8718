import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MonitorEvent } from '@cpnet/protocol';
import { generateRecording } from '../fixtures/recording-fixture.ts';
import { applyEvent, EVENT_HANDLING, stateFromSnapshot } from './apply.ts';

// The view handles every event type the contract lists (docs/asyncapi.json, generated from @cpnet/protocol), and the
// data nodes send (JobEventData, HealthEventData, FlowEventData, AlertEventData) changes what it draws.

const doc = JSON.parse(readFileSync(new URL('../../../../docs/asyncapi.json', import.meta.url), 'utf8')) as {
  components: { schemas: { MonitorEvent: { properties: { type: { enum: string[] } } } } };
};
const contractTypes = doc.components.schemas.MonitorEvent.properties.type.enum;

const fixture = generateRecording({ nodes: 6, clusters: 20, events: 50, seed: 5 });
const first = fixture.lines.find((l) => l.kind === 'snapshot')!;
const snapshot = first.kind === 'snapshot' ? first.state : null!;
let n = 0;
const ev = (type: string, data: Record<string, unknown>, over: Partial<MonitorEvent> = {}): MonitorEvent =>
  ({
    id: `e${n++}`,
    type,
    at: '2026-03-02T08:00:05.000Z',
    node: 'CPN',
    severity: 'info',
    data,
    ...over,
  }) as MonitorEvent;

describe('the view and the contract', () => {
  it('says what it does with every event type docs/asyncapi.json lists, and no other', () => {
    expect(contractTypes.length).toBeGreaterThan(30);
    expect(Object.keys(EVENT_HANDLING).sort()).toEqual([...contractTypes].sort());
  });

  it('applies an event of every listed type without failing, with any data', () => {
    const state = stateFromSnapshot(snapshot, 0);
    for (const type of contractTypes) {
      expect(() => applyEvent(state, ev(type, {}), 1)).not.toThrow();
      expect(() => applyEvent(state, ev(type, { flows: 'x', health: 7, cluster: null }), 2)).not.toThrow();
    }
  });

  it('draws a job from what nodes send: origin and cluster provinces, owner, explanation; finished leaves flight', () => {
    const state = stateFromSnapshot(snapshot, 0);
    const data = {
      origin: 'CPN.51.C151',
      originProvince: '51',
      tenant: 'maotai@CPN.51.C151',
      state: 'dispatched',
      cluster: 'CPN.44/CL-1A',
      province: '44',
      owner: 'CPN.44',
      via: 'CPN',
      traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      explanation: { chosen: 'CPN.44/CL-1A', rejected: [{ target: 'CPN.44/CL-2B', reason: 'ranked 2' }] },
    };
    applyEvent(state, ev('job.dispatch', data, { subject: 'CPN.51.C151/JB-1' }), 1);
    expect(state.jobs.get('CPN.51.C151/JB-1')).toMatchObject({
      from: '51',
      to: '44',
      origin: 'CPN.51.C151',
      owner: 'CPN.44',
      state: 'dispatched',
      explanation: data.explanation,
    });
    applyEvent(state, ev('job.finish', { ...data, state: 'finished' }, { subject: 'CPN.51.C151/JB-1' }), 2);
    expect(state.jobs.has('CPN.51.C151/JB-1')).toBe(false);
  });

  it('marks a link and a node down from health events, sums flow counters, keeps benign alerts apart', () => {
    const state = stateFromSnapshot(snapshot, 0);
    const link = [...state.links.values()][0]!;
    const h = { health: 'down', was: 'healthy', cause: 'connection', reason: 'dropped' };
    applyEvent(state, ev('link.health', { ...h, child: link.from, parent: link.to }, { subject: link.from }), 1);
    applyEvent(state, ev('node.health', h, { subject: link.from }), 1);
    expect(state.links.get(`${link.from}>${link.to}`)?.health).toBe('down');
    expect(state.nodes.get(link.from)?.health).toBe('down');
    const flows = {
      since: 'a',
      until: 'b',
      flows: [{ from: '51', to: '44', state: 'finished', count: 3 }],
      states: {},
    };
    applyEvent(state, ev('job.flows', flows), 2);
    applyEvent(state, ev('job.flows', flows), 3);
    expect(state.flowCounts.get('51>44>finished')).toBe(6);
    const alerts = state.counters.securityAlerts;
    const alert = { kind: 'probe', reason: 'r', source: 'CPN.51', target: 'POST /x', threat: false };
    applyEvent(state, ev('security.alert', alert), 4);
    expect(state.counters.securityAlerts).toBe(alerts);
    expect(state.benignAlerts).toBe(1);
    applyEvent(state, ev('security.alert', { ...alert, kind: 'replay', threat: true }), 5);
    expect(state.counters.securityAlerts).toBe(alerts + 1);
  });
});
