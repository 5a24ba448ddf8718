import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applicationProblem } from './onboarding/applicant.ts';
import { createNode, ConfigError, parseConfig, type CpnNode } from './create-node.ts';
import type { NodeConfig, NodeConfigInput } from './config.ts';
import { defaultDeps, type NodeDeps } from './deps.ts';

/** Where configuration comes from; later sources win: file, then environment, then flags. */
export interface ConfigSources {
  readonly file?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Defaults of the program starting the node, below the file, environment and flags (`cpnet node start`: authority acceptance). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  readonly flags?: Partial<Record<keyof NodeConfigInput, unknown>>;
}

const ENV: Record<string, keyof NodeConfigInput> = {
  CPNET_ROLE: 'role',
  CPNET_CODE: 'code',
  CPNET_NAME: 'name',
  CPNET_HOST: 'host',
  CPNET_PORT: 'port',
  CPNET_DATA: 'dataDir',
  CPNET_DATABASE_URL: 'database',
  CPNET_PARENT: 'parentUrl',
  CPNET_PUBLIC_URL: 'publicUrl',
  CPNET_ALIASES: 'aliases',
  CPNET_TRUST_ANCHOR: 'trustAnchor',
  CPNET_APPLICATION: 'applicationFile',
  CPNET_PASSPHRASE_FILE: 'passphraseFile',
  CPNET_AUTO_REVIEW: 'autoReview',
  CPNET_ACCEPTANCE: 'acceptance',
  CPNET_DEADLINE: 'applicationDeadline',
  CPNET_GUIDE: 'guideFile',
  CPNET_BODY_LIMIT: 'bodyLimitBytes',
  CPNET_LOG_LEVEL: 'logLevel',
};

const TLS_ENV: Record<string, string> = {
  CPNET_TLS: 'enabled',
  CPNET_TLS_PORT: 'port',
  CPNET_TLS_PUBLIC_URL: 'publicUrl',
};

const flag = (v: string): boolean | string =>
  ['1', 'true', 'yes'].includes(v.toLowerCase()) ? true : ['0', 'false', 'no'].includes(v.toLowerCase()) ? false : v;

function fromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const tls: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(TLS_ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') tls[key] = key === 'enabled' ? flag(v) : v;
  }
  if (Object.keys(tls).length > 0) out.tls = tls;
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    // Aliases are a comma-separated list of URLs.
    out[key] = key === 'autoReview' ? flag(v) : key === 'aliases' ? v.split(',').map((u) => u.trim()) : v;
  }
  return out;
}

function fromFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`config file ${file} cannot be read: ${(e as Error).message}`, 'config');
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`config file ${file} is not a JSON object: ${(e as Error).message}`, 'config');
  }
}

/** Merges and validates configuration; a bad value throws ConfigError naming the field and the reason. */
export function loadConfig(sources: ConfigSources): NodeConfig {
  const flags = Object.fromEntries(Object.entries(sources.flags ?? {}).filter(([, v]) => v !== undefined));
  const file = sources.file ? fromFile(sources.file) : {};
  const env = fromEnv(sources.env ?? {});
  const merged: Record<string, unknown> = { ...sources.defaults, ...file, ...env, ...flags };
  // `tls` is an object: its fields merge across the sources (file, then environment, then flags).
  const tlsParts = [file.tls, env.tls, flags.tls].filter((t) => t !== undefined);
  if (tlsParts.length > 0) {
    merged.tls = tlsParts.every((t) => t !== null && typeof t === 'object' && !Array.isArray(t))
      ? Object.assign(
          {},
          ...tlsParts.map((t) => Object.fromEntries(Object.entries(t as object).filter(([, v]) => v !== undefined))),
        )
      : tlsParts[tlsParts.length - 1];
  }
  return parseConfig(merged as NodeConfigInput);
}

/**
 * Builds and starts a node, and closes it gracefully on SIGINT/SIGTERM. Rejects with EADDRINUSE etc. when it cannot
 * listen, and with ApplicationError when a regional or industry node has no valid application to start onboarding.
 * A national node writes its root certificate to `trust-anchor.pem` in its data folder (`trustAnchorFile`).
 */
export async function startNode(
  config: NodeConfig,
  deps: NodeDeps = defaultDeps({ level: config.logLevel, name: config.code }),
): Promise<CpnNode & { url: string; trustAnchorFile: string | null }> {
  const node = await createNode(config, deps);
  const problem = applicationProblem({
    config,
    applied: Boolean(node.context.identity.certificate || node.context.settings.get('application.id')),
    endpoint: node.context.endpoint(),
    publicKeyPem: node.context.identity.publicKeyPem,
  });
  if (problem) {
    await node.close();
    throw new ApplicationError(problem);
  }
  let url: string;
  try {
    url = await node.listen();
  } catch (e) {
    await node.close();
    throw e;
  }
  const stop = (signal: string) => {
    deps.logger.info({ signal }, 'shutting down');
    void node.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return Object.assign(node, { url, trustAnchorFile: writeTrustAnchor(node) });
}

/** A regional or industry node has no application to start onboarding with, or it is unreadable or invalid. */
export class ApplicationError extends Error {}

/**
 * The national node writes its root certificate into its data folder, for operators to hand to child nodes as
 * their trust anchor (`--trust-anchor`). Returns the file's path, or null for other nodes.
 */
function writeTrustAnchor(node: CpnNode): string | null {
  const { config, identity } = node.context;
  const root = identity.root ?? identity.certificate;
  if (config.role !== 'national' || !root) return null;
  const file = path.resolve(config.dataDir, 'trust-anchor.pem');
  writeFileSync(file, root);
  return file;
}
