import { describe, expect, it } from 'vitest';
import { digester, type JobView } from './jobs.ts';

const step = (state: string, cluster?: string) => ({
  state,
  at: '2030-01-01T00:00:00.000Z',
  node: 'CPN.51',
  ...(cluster ? { cluster } : {}),
});

describe('a listed job digested for the checks', () => {
  it('keeps the state, where the job ran, its final states and whether it was replaced', () => {
    const digest = digester();
    const ran: JobView = {
      id: 'a',
      state: 'finished',
      cluster: 'C1',
      history: [step('queued'), step('dispatched', 'C9'), step('running', 'C1'), step('finished', 'C1')],
    };
    expect(digest(ran)).toEqual({ state: 'finished', cluster: 'C1', finals: ['finished'], replaced: false });
    // No cluster on the job itself: the last one its history names.
    const moved: JobView = {
      id: 'b',
      state: 'failed',
      cluster: null,
      history: [step('dispatched', 'C2'), step('replaced', 'C2'), step('dispatched', 'C3'), step('failed')],
    };
    expect(digest(moved)).toEqual({ state: 'failed', cluster: 'C3', finals: ['failed'], replaced: true });
    const never: JobView = { id: 'c', state: 'queued', cluster: null, history: [step('queued')] };
    expect(digest(never)).toEqual({ state: 'queued', cluster: null, finals: [], replaced: false });
    const twice: JobView = {
      id: 'd',
      state: 'finished',
      cluster: 'C1',
      history: [step('failed', 'C1'), step('finished', 'C1')],
    };
    expect(digest(twice).finals).toEqual(['failed', 'finished']);
  });

  it('shares one list of final states among the jobs that end alike, and cannot be changed through it', () => {
    const digest = digester();
    const job = (id: string): JobView => ({ id, state: 'finished', cluster: 'C1', history: [step('finished', 'C1')] });
    const a = digest(job('a'));
    const b = digest(job('b'));
    expect(a.finals).toBe(b.finals);
    expect(Object.isFrozen(a.finals)).toBe(true);
  });
});
