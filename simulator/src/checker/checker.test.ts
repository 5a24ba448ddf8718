import { describe, expect, it } from 'vitest';
import { createChecker } from './checker.ts';

describe('history checker', () => {
  it('passes when every acknowledged write is present once', () => {
    const c = createChecker();
    c.ack({ key: 'a', kind: 'register', at: 1 });
    c.ack({ key: 'a', kind: 'register', at: 2 });
    c.ack({ key: 'b', kind: 'register', at: 3 });
    const r = c.verify({
      observations: [
        { key: 'a', count: 1 },
        { key: 'b', count: 1 },
        { key: 'unacked', count: 1 },
      ],
    });
    expect(r).toMatchObject({ acknowledged: 2, lost: [], duplicated: [], passed: true });
  });

  it('finds lost and duplicated writes', () => {
    const c = createChecker();
    c.ack({ key: 'a', kind: 'register', at: 1 });
    c.ack({ key: 'b', kind: 'register', at: 1 });
    const r = c.verify({ observations: [{ key: 'b', count: 2 }] });
    expect(r).toMatchObject({ lost: ['a'], duplicated: ['b'], passed: false });
  });

  it('leaves out what was acknowledged after the observations were taken (unjudged), and nothing else', () => {
    const c = createChecker();
    c.ack({ key: 'a', kind: 'job', at: 1 });
    c.ack({ key: 'late', kind: 'job', at: 2 });
    c.ack({ key: 'gone', kind: 'job', at: 3 });
    const r = c.verify({ observations: [{ key: 'a', count: 1 }], unjudged: new Set(['late']) });
    expect(r).toMatchObject({ acknowledged: 2, lost: ['gone'], passed: false });
  });

  it('requires exactly one final state per job', () => {
    const c = createChecker();
    const r = c.verify({
      observations: [],
      jobs: [
        { id: 'j1', finalStates: ['finished'] },
        { id: 'j2', finalStates: [] },
        { id: 'j3', finalStates: ['failed', 'finished'] },
      ],
    });
    expect(r).toMatchObject({ jobsWithoutFinalState: ['j2'], jobsWithSeveralFinalStates: ['j3'], passed: false });
  });

  it('reports failover time percentiles and unrecovered episodes', () => {
    const c = createChecker();
    for (let i = 0; i < 100; i++) {
      c.failed('cluster', i * 1000);
      c.recovered('cluster', i * 1000 + 100 + i);
    }
    c.failed('node', 0);
    const r = c.verify({ observations: [] });
    expect(r.failover).toEqual({ episodes: 101, unrecovered: 1, p50Ms: 150, p99Ms: 199 });
  });
});
