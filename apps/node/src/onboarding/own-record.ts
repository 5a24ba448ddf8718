import { formatIdentifier } from '@cpnet/identifier';
import type { NodeContext } from '../context.ts';
import { HttpError } from '../http/http-error.ts';
import { findRecord, registerRecord, updateRecord } from '../identifiers/registry.ts';
import { nodeRecordValue } from './grant.ts';

/** The serial of the national node's own ND record, `CPN/ND-16Q` (ARCHITECTURE.md, the identifier scheme). */
export const OWN_ND_SERIAL = '1';

/** What `ensureOwnNodeRecord` uses of the node. */
type EnsureOwnNodeRecordDeps = Pick<
  NodeContext,
  | 'audit'
  | 'cache'
  | 'config'
  | 'db'
  | 'deps'
  | 'events'
  | 'identity'
  | 'metrics'
  | 'outbox'
  | 'serials'
  | 'state'
  | 'tls'
>;

/**
 * The national node has no parent to register it, so it describes itself under its own prefix: it registers
 * `CPN/ND-16Q` at first start (reserving the serial, so it is never issued again) and writes a new version only when
 * its endpoint, certificate or lifecycle changed since. Other nodes get their ND record from their parent's grant.
 */
export async function ensureOwnNodeRecord(ctx: EnsureOwnNodeRecordDeps): Promise<void> {
  if (ctx.config.role !== 'national' || !ctx.state.url || !ctx.identity.certificate) return;
  const made = formatIdentifier({ prefix: ctx.config.code, kind: 'ND', serial: OWN_ND_SERIAL });
  if (!made.ok) throw new Error(`${ctx.config.code} cannot name its own ND record: ${made.error.message}`);
  const tlsEndpoint = ctx.tls.endpoint();
  const data = {
    prefix: ctx.config.code,
    role: ctx.config.role,
    endpoint: ctx.state.url,
    ...(tlsEndpoint ? { tlsEndpoint } : {}),
    certificate: ctx.identity.certificate,
    lifecycle: ctx.state.lifecycle,
    health: 'healthy',
  };
  const existing = await findRecord(ctx, made.value);
  if (!existing) {
    try {
      await registerRecord(ctx, { kind: 'ND', serial: OWN_ND_SERIAL, values: nodeRecordValue(data) });
    } catch (e) {
      // A database from before this record existed may have issued the serial by hand: keep starting, say why.
      if (!(e instanceof HttpError)) throw e;
      ctx.deps.logger.warn({ id: made.value, error: e.message }, 'cannot register the national node record');
    }
    return;
  }
  if (existing.owner !== ctx.config.code || existing.status !== 'active') return;
  if (JSON.stringify(existing.values) === JSON.stringify(nodeRecordValue(data))) return;
  await updateRecord(ctx, { id: existing.id, update: { version: existing.version, values: nodeRecordValue(data) } });
}
