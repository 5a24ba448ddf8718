// The simulator's governed clock end to end (issue 16), against real nodes: four months of virtual time in under two
// minutes of wall time; the failover scenario replayed by seed at two speeds (its speed-10 run is also the shipped
// scenarios' run of failover.yaml); a small scale run beside a CPU hog on every core with one node thread stalling,
// correct if slower. Wall-time caps are stated per test.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario, runScenario, samePlacementShare, summarise, type Scenario } from '@cpnet/simulator';
import { expectValidRecording } from './recording-checks.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function load(file: string): Scenario {
  const r = parseScenario(readFileSync(path.join(root, file), 'utf8'), file);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

/** CPU time (ms) a process has used, from /proc/<pid>/stat (user + system ticks). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 0, utime 11, stime 12 (clock ticks, 100 per second on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

describe('the governed simulation clock', () => {
  const hogs: ChildProcess[] = [];
  afterEach(() => {
    for (const h of hogs.splice(0)) h.kill('SIGKILL');
  });

  it('runs 120 virtual days — idle stretches, a 10-day job, token renewals, identifiers — in under 2 min of wall time', async () => {
    const report = await runScenario(load('simulator/test-fixtures/calendar-120d.yaml'), { logLevel: 'error' });
    expect(report.passed, summarise(report)).toBe(true);
    expect(report.virtualMs).toBeGreaterThanOrEqual(120 * 86_400_000);
    expect(report.wallMs).toBeLessThan(120_000);
  }, 150_000); // wall cap: 2.5 min

  it('replays the failover scenario by seed five times, at 10 and max, idle and under a hog: same verdicts and placements', async () => {
    const scenario = load('scenarios/failover.yaml');
    const hog = () => {
      for (let i = 0; i < availableParallelism(); i++)
        hogs.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
    };
    const unhog = () => {
      for (const h of hogs.splice(0)) h.kill('SIGKILL');
    };
    const runs: { label: string; report: Awaited<ReturnType<typeof runScenario>> }[] = [];
    const run = async (label: string, speed: number | 'max', record?: (line: string) => void) =>
      runs.push({
        label,
        report: await runScenario(scenario, { speed, seed: 11, logLevel: 'error', ...(record ? { record } : {}) }),
      });
    // The first run is failover.yaml as shipped (its speed, its seed): it is also the shipped scenarios' run of it,
    // recorded and checked as scenarios/shipped.test.ts checks the others.
    const recording: string[] = [];
    await run('speed 10, idle', 10, (l) => recording.push(l));
    await run('max, idle', 'max');
    await run('max, idle, again', 'max');
    hog();
    try {
      await run('max, under a hog', 'max');
      await run('speed 10, under a hog', 10);
    } finally {
      unhog();
    }
    const verdicts = (r: (typeof runs)[number]['report']) => r.expectations.map((e) => `${e.name}: ${e.passed}`);
    const first = runs[0]!.report;
    expect(first.passed, summarise(first)).toBe(true);
    expect(first.expectations.length).toBeGreaterThan(3);
    expectValidRecording(recording);
    expect(Object.keys(first.placements ?? {}).length).toBe(8);
    expect(first.seed).toBe(11);
    for (const { label, report } of runs.slice(1)) {
      expect(verdicts(report), `${label}: ${summarise(report)}`).toEqual(verdicts(first));
      expect(samePlacementShare(first, report), label).toBeGreaterThanOrEqual(0.99);
    }
  }, 480_000); // wall cap: 8 min (about 55 s at speed 10 and 12 s at max when idle; under the hog up to twice that)

  // One run of the scale cut serves the next two cases: beside a CPU hog on every core AND with node thread 0 blocked
  // 60 ms of every 100 ms of wall time (40 % of its time left). Each case asserts on it what it asserted on a run of
  // its own before. At the fixture's speed 10: on a shared 2-core machine it took 69 s of wall time, and 139 s at `max`
  // (measured side by side).
  type Contended = { report: Awaited<ReturnType<typeof runScenario>>; used: number[] };
  let contendedRun: Promise<Contended> | undefined;
  const contended = () =>
    (contendedRun ??= (async () => {
      const mine: ChildProcess[] = [];
      for (let i = 0; i < availableParallelism(); i++)
        mine.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
      try {
        const before = mine.map((h) => cpuMsOf(h.pid!));
        const report = await runScenario(load('simulator/test-fixtures/scale-small.yaml'), {
          logLevel: 'error',
          stallThread: { thread: 0, busyMs: 60, everyMs: 100 },
        });
        return { report, used: mine.map((h, i) => cpuMsOf(h.pid!) - before[i]!) };
      } finally {
        for (const h of mine) h.kill('SIGKILL');
      }
    })());

  it('loses nothing beside a CPU hog on every core: slower, not wrong', async () => {
    const { report, used } = await contended();
    // The hogs really competed: each took a share of a core over the run (≥ 10 %: the machine may be shared with more
    // than this test; alone, each takes about half of a core against the run's two threads).
    for (const ms of used) expect(ms).toBeGreaterThan(report.wallMs * 0.1);
    expect(report.passed, summarise(report)).toBe(true);
    expect(report.metrics['acknowledged_lost']).toBe(0);
    expect(report.metrics['acknowledged_duplicated']).toBe(0);
    expect(report.metrics['jobs_submitted']).toBe(600);
  }, 480_000); // wall cap: 8 min (the two runs' caps of 4 min each before they were one run)

  it('loses nothing when one node thread keeps stalling: its nodes answer late, the clock waits for them', async () => {
    const { report } = await contended();
    // The stall really happened: the thread was blocked for most of the run.
    expect(report.metrics['thread_stalled_ms']).toBeGreaterThan(report.wallMs * 0.4);
    expect(report.passed, summarise(report)).toBe(true);
    expect(report.metrics['acknowledged_lost']).toBe(0);
    expect(report.metrics['acknowledged_duplicated']).toBe(0);
    expect(report.metrics['jobs_submitted']).toBe(600);
  }, 480_000); // wall cap: the run of the case above (run here if that case was left out)

  it('refuses a stall it cannot carry out, before starting anything', async () => {
    const scenario = load('simulator/test-fixtures/scale-small.yaml');
    await expect(runScenario(scenario, { stallThread: { thread: 0, busyMs: 100, everyMs: 100 } })).rejects.toThrow(
      /everyMs must be an integer above busyMs/,
    );
    await expect(
      runScenario(scenario, { threads: 0, stallThread: { thread: 0, busyMs: 10, everyMs: 100 } }),
    ).rejects.toThrow(/hosts no nodes in worker threads/);
  });
});
