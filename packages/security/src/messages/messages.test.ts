import { describe, expect, it } from 'vitest';
import { createFakeClock } from '@cpnet/kernel';
import { T0, testKeys } from '../testing/fixtures.ts';
import type { ProfileName } from '../crypto/profile.ts';
import { signRequest } from './sign-request.ts';
import { createVerifier } from './verify-request.ts';
import { createMemoryNonceStore } from './nonce-store.ts';
import { signAnswer, verifyAnswer } from './answers.ts';
import { createSequenceValidator, issueHandshakeToken, verifyHandshakeToken } from './socket.ts';
import type { HttpRequestLike } from './http.ts';

const URL_ = 'https://cpn51.example/cpn/v1/records/CPN.51.C151%2FCL-01JQ4ZK8M3XX1';

describe.each<ProfileName>(['ed25519', 'sm2'])('signed messages (%s)', (profile) => {
  const keys = testKeys(11, profile);
  const setup = (startedAt?: number, verifyOffLoop = false) => {
    const clock = createFakeClock(T0);
    const verifier = createVerifier({
      resolveKey: (k) => (k === 'CPN.51.C151' ? keys.publicKey : null),
      nonceStore: createMemoryNonceStore({ clock }),
      clock,
      startedAt,
      profile,
      verifyOffLoop,
    });
    const sign = (req: HttpRequestLike) => ({
      ...req,
      headers: { ...req.headers, ...signRequest(req, { keyid: 'CPN.51.C151', privateKey: keys.privateKey, clock }) },
    });
    return { clock, verifier, sign };
  };
  const post: HttpRequestLike = {
    method: 'POST',
    url: URL_,
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  };

  it('signs and verifies a request with a body, once', async () => {
    const { verifier, sign } = setup();
    const req = sign(post);
    expect(req.headers['content-digest']).toMatch(profile === 'ed25519' ? /^sha-256=:/ : /^sm3=:/);
    expect(req.headers['signature-input']).toMatch(
      /^cpn=\("@method" "@target-uri" "content-type" "content-digest"\);created=\d+;expires=\d+;nonce="[^"]+";keyid="CPN.51.C151";alg="[a-z0-9-]+";tag="cpn"$/,
    );
    expect(await verifier.verify(req)).toMatchObject({ ok: true, keyid: 'CPN.51.C151' });
    expect(await verifier.verify(req)).toMatchObject({ ok: false, code: 'REPLAYED' });
  });

  it('gives the same verdicts with the verification off the event loop', async () => {
    const { verifier, sign } = setup(undefined, true);
    const req = sign(post);
    const sig = String(req.headers.signature);
    // The last byte of the signature flipped (inside the base64 of the byte sequence, before its closing colon).
    const flipped = `${sig.slice(0, -3)}${sig.at(-3) === 'A' ? 'B' : 'A'}${sig.slice(-2)}`;
    expect(await verifier.verify({ ...req, headers: { ...req.headers, signature: flipped } })).toMatchObject({
      ok: false,
      code: 'UNAUTHENTICATED',
      reason: 'the signature does not verify',
    });
    expect(await verifier.verify({ ...req, body: '{"a":2}' })).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
    expect(await verifier.verify(req)).toMatchObject({ ok: true, keyid: 'CPN.51.C151' });
    expect(await verifier.verify(req)).toMatchObject({ ok: false, code: 'REPLAYED' });
  });

  it('signs a GET without a body over @method and @target-uri only', async () => {
    const { verifier, sign } = setup();
    const req = sign({ method: 'GET', url: URL_, headers: {} });
    expect(req.headers['signature-input']).toMatch(/^cpn=\("@method" "@target-uri"\)/);
    expect((await verifier.verify(req)).ok).toBe(true);
  });

  it('accepts ±30 s of skew and refuses beyond', async () => {
    const { verifier, sign, clock } = setup();
    clock.set(T0 + 25_000);
    const late = sign(post);
    clock.set(T0);
    expect((await verifier.verify(late)).ok).toBe(true);
    clock.set(T0 + 35_000);
    const tooLate = sign(post);
    clock.set(T0);
    expect(await verifier.verify(tooLate)).toMatchObject({ ok: false, code: 'UNAUTHENTICATED' });
  });

  it('refuses messages created before start when the replay memory is not durable', async () => {
    const { verifier, sign, clock } = setup(T0 + 5_000);
    const before = sign(post);
    clock.set(T0 + 6_000);
    expect(await verifier.verify(before)).toMatchObject({ ok: false, reason: expect.stringContaining('started') });
    expect((await verifier.verify(sign(post))).ok).toBe(true);
  });

  it('signs answers so a resolver can check who answered', async () => {
    const answer = {
      id: 'CPN.51.C151/CL-01JQ4ZK8M3XX1',
      authoritative: true,
      values: [{ index: 1, type: 'URL', data: 'https://x' }],
    };
    const signed = await signAnswer(answer, { keyid: 'CPN.51.C151', privateKey: keys.privateKey });
    expect(signed.signature).toMatch(/^[\w-]+\.\.[\w-]+$/);
    expect((await verifyAnswer(signed, { keyid: 'CPN.51.C151', publicKey: keys.publicKey })).ok).toBe(true);
    const reordered = { values: answer.values, authoritative: true, id: answer.id };
    expect(
      (
        await verifyAnswer(
          { answer: reordered, signature: signed.signature },
          { keyid: 'CPN.51.C151', publicKey: keys.publicKey },
        )
      ).ok,
    ).toBe(true);
    expect(
      (
        await verifyAnswer(
          { answer: { ...answer, authoritative: false }, signature: signed.signature },
          { keyid: 'CPN.51.C151', publicKey: keys.publicKey },
        )
      ).ok,
    ).toBe(false);
    expect((await verifyAnswer(signed, { keyid: 'CPN.51', publicKey: keys.publicKey })).ok).toBe(false);
  });

  it('issues single-use handshake tokens', async () => {
    const clock = createFakeClock(T0);
    const store = createMemoryNonceStore({ clock });
    const token = await issueHandshakeToken(
      { keyid: 'CPN.51.C151', audience: 'CPN.51', namespace: '/events' },
      { privateKey: keys.privateKey, clock },
    );
    const opts = { publicKey: keys.publicKey, audience: 'CPN.51', namespace: '/events', clock, nonceStore: store };
    expect(await verifyHandshakeToken(token, opts)).toMatchObject({
      ok: true,
      value: { iss: 'CPN.51.C151', aud: 'CPN.51' },
    });
    expect((await verifyHandshakeToken(token, opts)).ok).toBe(false);
    const other = await issueHandshakeToken(
      { keyid: 'CPN.51.C151', audience: 'CPN.51', namespace: '/events' },
      { privateKey: keys.privateKey, clock },
    );
    clock.advance(91_000);
    expect((await verifyHandshakeToken(other, opts)).ok).toBe(false);
  });
});

describe('control-message sequence numbers', () => {
  it('accepts increasing numbers, reports gaps, refuses replays and reordering', () => {
    const v = createSequenceValidator();
    expect(v.accept(0)).toEqual({ ok: true, value: { gap: 0 } });
    expect(v.accept(1).ok).toBe(true);
    expect(v.accept(4)).toEqual({ ok: true, value: { gap: 2 } });
    expect(v.accept(4).ok).toBe(false);
    expect(v.accept(3).ok).toBe(false);
    expect(v.accept(1.5).ok).toBe(false);
    expect(v.last).toBe(4);
  });
});

describe('nonce store', () => {
  it('forgets expired nonces and fails closed when full', () => {
    const clock = createFakeClock(T0);
    const store = createMemoryNonceStore({ clock, maxEntries: 2 });
    expect(store.seen('k', 'n1', T0 + 1000)).toBe(false);
    expect(store.seen('k', 'n1', T0 + 1000)).toBe(true);
    expect(store.seen('k', 'n2', T0 + 1000)).toBe(false);
    expect(store.seen('k', 'n3', T0 + 1000)).toBe(true);
    clock.advance(2000);
    expect(store.seen('k', 'n3', T0 + 5000)).toBe(false);
  });
});
