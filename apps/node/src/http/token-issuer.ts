/**
 * The issuer a JWT claims (`iss`), read without verifying it: it only says which key to verify the token with.
 * Returns null for anything that is not a JWT with a string issuer.
 */
export function claimedIssuer(token: string): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      iss?: unknown;
    };
    return typeof payload.iss === 'string' ? payload.iss : null;
  } catch {
    return null;
  }
}
