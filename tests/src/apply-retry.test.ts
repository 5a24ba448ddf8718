import { afterAll, describe, expect, it } from 'vitest';
import { offsetClock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

const started: TestNode[] = [];
afterAll(async () => {
  for (const n of started.reverse()) await n.stop();
  cleanup();
});

describe('applying to a parent that answers 401', () => {
  it('keeps retrying (an overloaded parent reads signatures after they expired) and applies once the parent can verify', async () => {
    // The national node's clock runs 10 minutes ahead: every signature of the applicant looks expired to it.
    let skew = 10 * 60_000;
    const national = await startTestNode({
      role: 'national',
      code: 'CPN',
      clock: offsetClock(systemClock, () => skew),
    });
    started.push(national);
    const dir = tempDir();
    const regional = await startTestNode({
      role: 'regional',
      code: 'CPN.51',
      parentUrl: national.url,
      dataDir: dir,
      applicationFile: applicationFile(dir),
    });
    started.push(regional);
    const refusals = async () => {
      const text = await (await fetch(`${national.url}/metrics`)).text();
      return Number(/cpn_signature_failures_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? '0');
    };
    await eventually(async () => (await refusals()) >= 2, 10_000);
    expect(await lifecycleOf(regional)).toBe('applied'); // not 'rejected': a 401 is not a verdict on the application
    skew = 0;
    await eventually(async () => (await lifecycleOf(regional)) === 'reviewing', 15_000);
  }, 40_000);
});
