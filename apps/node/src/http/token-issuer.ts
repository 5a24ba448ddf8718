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

/** The `typ` a JWT's header claims, read without verifying it (to name the right reason for a refusal); null if none. */
export function claimedType(token: string): string | null {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      typ?: unknown;
    };
    return typeof header.typ === 'string' ? header.typ : null;
  } catch {
    return null;
  }
}
