import { describe, expect, it } from 'vitest';
import { formatTime, TaskTemplate, type JobHistoryEntry } from '@cpnet/protocol';
import { applyEntry, newJob, type JobRecord } from './job-machine.ts';

const T0 = Date.UTC(2026, 10, 26, 8, 0, 0);
const template = TaskTemplate.parse({ demand: { cpuCores: 4, memoryGib: 8 }, durationHours: 1 });
const fresh = (): JobRecord =>
  newJob({ id: 'CPN.51/JB-1EJ', tenant: 't1', origin: 'CPN.51', template, at: T0, node: 'CPN.51' });
const at = (s: number) => formatTime(T0 + s * 1000);
const e = (state: JobHistoryEntry['state'], s: number, over: Partial<JobHistoryEntry> = {}): JobHistoryEntry => ({
  state,
  at: at(s),
  node: 'CPN.51',
  ...over,
});

describe('job state machine', () => {
  it('walks submitted → scheduled → confirmed → dispatched → running → finished, each with time and node', () => {
    const j = fresh();
    for (const [st, s] of [
      ['scheduled', 1],
      ['confirmed', 2],
      ['dispatched', 3],
      ['running', 4],
      ['finished', 5],
    ] as const)
      applyEntry(j, e(st, s, { cluster: 'CPN.51/CL-1EJ' }));
    expect(j.state).toBe('finished');
    expect(j.history.map((h) => h.state)).toEqual([
      'submitted',
      'scheduled',
      'confirmed',
      'dispatched',
      'running',
      'finished',
    ]);
    expect(j.finishedAt).toBe(T0 + 5000);
    expect(j.cluster).toBe('CPN.51/CL-1EJ');
  });

  it('is idempotent: a repeated entry changes nothing', () => {
    const j = fresh();
    expect(applyEntry(j, e('scheduled', 1)).appended).toBe(true);
    expect(applyEntry(j, e('scheduled', 1))).toEqual({ appended: false, changed: false, finalised: false });
    expect(j.history).toHaveLength(2);
  });

  it('has exactly one final state: nothing moves a finished job', () => {
    const j = fresh();
    expect(applyEntry(j, e('cancelled', 1)).finalised).toBe(true);
    expect(applyEntry(j, e('finished', 2)).appended).toBe(false);
    expect(applyEntry(j, e('running', 3)).appended).toBe(false);
    expect(j.history.filter((h) => ['finished', 'failed', 'cancelled'].includes(h.state))).toHaveLength(1);
  });

  it('ignores an update that arrives late within an attempt', () => {
    const j = fresh();
    applyEntry(j, e('running', 4, { cluster: 'CPN.51/CL-1EJ' }));
    const r = applyEntry(j, e('dispatched', 3, { cluster: 'CPN.51/CL-1EJ' }));
    expect(r).toEqual({ appended: true, changed: false, finalised: false });
    expect(j.state).toBe('running');
  });

  it("re-placement starts a new attempt; the old cluster's final update does not end the job", () => {
    const j = fresh();
    applyEntry(j, e('running', 1, { cluster: 'CPN.51/CL-1EJ' }));
    applyEntry(j, e('replaced', 2, { cluster: 'CPN.51/CL-1EJ', detail: 'cluster down' }));
    expect(j.attempt).toBe(2);
    expect(applyEntry(j, e('failed', 3, { cluster: 'CPN.51/CL-1EJ', attempt: 1 })).changed).toBe(false);
    applyEntry(j, e('confirmed', 4, { cluster: 'CPN.44/CL-1EJ', node: 'CPN.44' }));
    expect(j).toMatchObject({
      state: 'confirmed',
      cluster: 'CPN.44/CL-1EJ',
      owner: 'CPN.44',
      preferredCluster: 'CPN.51/CL-1EJ',
    });
    applyEntry(j, e('finished', 5, { cluster: 'CPN.44/CL-1EJ' }));
    expect(j.state).toBe('finished');
  });

  it('goes back to queued when an escalation is refused', () => {
    const j = fresh();
    applyEntry(j, e('escalated', 1));
    applyEntry(j, e('queued', 2));
    expect(j.state).toBe('queued');
  });
});
