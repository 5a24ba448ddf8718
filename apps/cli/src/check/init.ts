import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '@cpnet/kernel/system';
import {
  CheckSetupError,
  freePort,
  parentUrlOf,
  prepareStateDir,
  sampleApplication,
  saveState,
  type CheckState,
} from './state.ts';
import { parsePrefix } from './prefix.ts';
import { buildNational } from './virtual-nodes.ts';

/** What `cpnet check init` prints (its --json output). */
export interface InitResult {
  readonly trustAnchor: string;
  readonly parentUrl: string;
  readonly application: string;
}

/** Options of `cpnet check init`. */
export interface InitOptions {
  readonly stateDir: string;
  readonly as: 'regional' | 'industry';
  /** The code the team's node applies for; CPN.51 or CPN.51.C151 by default. */
  readonly code?: string;
  /** The national node's port (the regional parent of an industry target takes the next one); free ports when absent. */
  readonly port?: number;
  readonly host?: string;
}

/** Creates the virtual national root in the state folder and writes the trust anchor and a sample application. */
export async function initConformance(options: InitOptions): Promise<InitResult> {
  const host = options.host ?? '127.0.0.1';
  const code = options.code ?? (options.as === 'regional' ? 'CPN.51' : 'CPN.51.C151');
  let parsed: ReturnType<typeof parsePrefix>;
  try {
    parsed = parsePrefix(code);
  } catch (e) {
    throw new CheckSetupError('usage', (e as Error).message);
  }
  if ((parsed.industry !== null) !== (options.as === 'industry'))
    throw new CheckSetupError(
      'usage',
      `--code ${code} is not ${options.as === 'industry' ? 'an industry (CPN.xx.Xnnn)' : 'a regional (CPN.xx)'} node code`,
    );
  const dir = path.resolve(options.stateDir);
  prepareStateDir(dir);
  const nationalPort = options.port ?? (await freePort(host));
  const regionalCode = `CPN.${parsed.region}`;
  const state: CheckState = {
    version: 1,
    as: options.as,
    code: parsed.code,
    host,
    national: { port: nationalPort, dataDir: path.join(dir, 'national') },
    regional:
      options.as === 'industry'
        ? {
            code: regionalCode,
            port: options.port ? options.port + 1 : await freePort(host),
            dataDir: path.join(dir, 'regional'),
            application: path.join(dir, 'regional-application.json'),
          }
        : null,
    trustAnchor: path.join(dir, 'trust-anchor.pem'),
    application: path.join(dir, 'application.json'),
  };
  // The national node makes its root certificate at its first build; the same data folder keeps it for `run`.
  const national = await buildNational(state, { logger: pino({ level: 'silent' }), clock: systemClock });
  const root = national.context.identity.root;
  await national.close();
  if (!root) throw new CheckSetupError('environment', 'the virtual national node has no root certificate');
  try {
    writeFileSync(state.trustAnchor, root);
    writeFileSync(state.application, `${JSON.stringify(sampleApplication(parsed.code), null, 2)}\n`);
    if (state.regional)
      writeFileSync(
        state.regional.application,
        `${JSON.stringify(sampleApplication(regionalCode, { virtualParent: true }), null, 2)}\n`,
      );
    saveState(dir, state);
  } catch (e) {
    throw new CheckSetupError('environment', `cannot write into ${dir}: ${(e as Error).message}`);
  }
  return { trustAnchor: state.trustAnchor, parentUrl: parentUrlOf(state), application: state.application };
}
