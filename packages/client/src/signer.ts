import type { TimeSource } from '@cpnet/kernel';
import { signRequest, type PrivateKeyHandle, type RandomBytes } from '@cpnet/security';

/** Who the client signs as: a node prefix or a provider/gateway identifier, with its private key. */
export interface Signer {
  readonly keyid: string;
  readonly privateKey: PrivateKeyHandle;
}

/** Signature headers for one request; called again on every retry, so each attempt has a new nonce and `created`. */
export function signatureHeaders(
  request: { method: string; url: string; headers: Record<string, string>; body?: string },
  options: { signer: Signer; clock: TimeSource; randomBytes?: RandomBytes },
): Record<string, string> {
  const signed = signRequest(request, {
    keyid: options.signer.keyid,
    privateKey: options.signer.privateKey,
    clock: options.clock,
    randomBytes: options.randomBytes,
  });
  return { ...signed };
}
