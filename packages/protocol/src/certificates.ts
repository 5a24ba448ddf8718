import { z } from 'zod';
import { message } from './primitives.ts';

/**
 * `POST /cpn/v1/node/certificate`: a child asks its parent to renew its certificate and delegation (same key, a new
 * validity period) once two thirds of its certificate's life, or of an issuer's in its chain, have passed. The
 * answer is a `Grant`: the renewed certificate, the parent's current chain and a renewed delegation.
 */
export const CertificateRenewalRequest = message({
  reason: z.string().max(200).optional().describe('why now, for the audit log (e.g. "two thirds of its life passed")'),
});
export type CertificateRenewalRequest = z.output<typeof CertificateRenewalRequest>;
