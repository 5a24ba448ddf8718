import { describe, expect, it } from 'vitest';
import type { GatewayAck } from '@cpnet/protocol';
import { CANCEL_SENDS, OwedCancels } from './owed-cancels.ts';
import type { CancelMsg, GatewayPort } from './ports.ts';

/** A gateway port that answers each cancel with the next of `answers` (then ok), recording what it was sent. */
function port(answers: GatewayAck[] = []) {
  const heard: { cluster: string; job: string; reason: string }[] = [];
  const p: GatewayPort = {
    dispatch: () => Promise.resolve({ ok: true }),
    cancel: (cluster: string, m: CancelMsg) => {
      heard.push({ cluster, job: m.job, reason: m.reason });
      return Promise.resolve(answers.shift() ?? { ok: true });
    },
  };
  return { p, heard };
}
const away: GatewayAck = { ok: false, error: { code: 'UNAVAILABLE', message: 'the gateway is not connected' } };
const tick = () => new Promise((r) => setImmediate(r));

describe('OwedCancels', () => {
  it('sends an unacknowledged cancel again on each resend until the gateway acknowledges it', async () => {
    const { p, heard } = port([away, away]);
    const c = new OwedCancels({ gateways: p, now: () => 0 });
    c.stop('C1', { id: 'J1', attempt: 1 }, 'preempted');
    await tick();
    expect(c.size).toBe(1);
    c.resend(() => ({ cluster: null, attempt: 2 }));
    await tick();
    c.resend(() => ({ cluster: null, attempt: 2 }));
    await tick();
    expect(heard).toHaveLength(3);
    expect(c.size).toBe(0);
    c.resend(() => undefined);
    await tick();
    expect(heard).toHaveLength(3);
  });

  it('drops a cancel once the job runs on that cluster again (a later attempt), and on a refusal that is not UNAVAILABLE', async () => {
    const { p, heard } = port([away, { ok: false, error: { code: 'NOT_FOUND', message: 'no such job' } }]);
    const c = new OwedCancels({ gateways: p, now: () => 0 });
    c.stop('C1', { id: 'J1', attempt: 1 }, 'replaced');
    c.stop('C2', { id: 'J2', attempt: 1 }, 'cancelled');
    await tick();
    expect(c.size).toBe(1);
    c.resend(() => ({ cluster: 'C1', attempt: 2 }));
    await tick();
    expect(heard.map((h) => h.job)).toEqual(['J1', 'J2']);
    expect(c.size).toBe(0);
  });

  it(`gives up after ${CANCEL_SENDS} sends`, async () => {
    const { p, heard } = port(Array.from({ length: CANCEL_SENDS + 5 }, () => away));
    const warned: string[] = [];
    const c = new OwedCancels({
      gateways: p,
      now: () => 0,
      log: { warn: (_o, m) => void warned.push(m), info: () => undefined },
    });
    c.stop('C1', { id: 'J1', attempt: 1 }, 'preempted');
    for (let i = 0; i < CANCEL_SENDS + 3; i++) {
      await tick();
      c.resend(() => undefined);
    }
    await tick();
    expect(heard).toHaveLength(CANCEL_SENDS);
    expect(warned).toEqual(['cancel not acknowledged by the gateway; given up']);
  });
});
