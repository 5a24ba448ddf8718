import { ROUTES, TokenAnswer, validate } from '@cpnet/protocol';
import { createClient } from './client.ts';

/**
 * The credential a visualiser server renews its page's viewer token with: the viewer's own account and password, or an
 * operator's account and password with the viewer account to mint for (`POST /cpn/v1/tokens/viewer`).
 */
export type ViewerCredential =
  | { readonly kind: 'viewer'; readonly account: string; readonly password: string }
  | { readonly kind: 'operator'; readonly account: string; readonly password: string; readonly viewer: string };

/** A fresh viewer token, or why there is none (the node's message). */
export type ViewerTokenResult = { ok: true; token: string; expiresIn: number } | { ok: false; error: string };

/** Gets a viewer token from the node at `baseUrl` with `credential`, valid `ttlSeconds` of the node's clock. */
export async function viewerToken(
  baseUrl: string,
  o: { credential: ViewerCredential; ttlSeconds: number },
): Promise<ViewerTokenResult> {
  const c = o.credential;
  const login = await createClient({ baseUrl }).token({
    account: c.account,
    password: c.password,
    ttlSeconds: c.kind === 'viewer' ? o.ttlSeconds : 300,
  });
  if (!login.ok) return { ok: false, error: `${c.kind} ${c.account}: ${login.error.message}` };
  if (c.kind === 'viewer') return { ok: true, token: login.value.token, expiresIn: login.value.expiresIn };
  const minted = await createClient({ baseUrl, token: login.value.token }).request({
    method: 'POST',
    path: ROUTES.viewerTokens,
    body: { viewer: c.viewer, ttlSeconds: o.ttlSeconds },
  });
  if (!minted.ok) return { ok: false, error: `minting a token for ${c.viewer}: ${minted.error.message}` };
  const v = validate(TokenAnswer, minted.value);
  return v.ok
    ? { ok: true, token: v.value.token, expiresIn: v.value.expiresIn }
    : { ok: false, error: `${baseUrl} answered something other than a token` };
}
