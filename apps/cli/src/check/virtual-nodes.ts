import { pino, type Logger } from 'pino';
import type { Clock } from '@cpnet/kernel';
import { systemClock } from '@cpnet/kernel/system';
import { cryptoRandomBytes } from '@cpnet/security';
import { createNode, type CpnNode } from '@cpnet/node';
import { CheckSetupError, type CheckState } from './state.ts';

/** The virtual national node and, for an industry target, the virtual regional parent. */
interface VirtualNodes {
  readonly national: CpnNode;
  readonly regional: CpnNode | null;
  /** The node the target applies to. */
  readonly parent: CpnNode;
  close(): Promise<void>;
}

const FAST = { retry: { initialMs: 100, maxMs: 1000 }, pollMs: 100, linkTimeoutMs: 3000 };

/** How long a promised port may stay in use before `check run` gives up on it (wall time, tried every 100 ms). */
const IN_USE_GRACE_MS = 2000;

/**
 * Listens on the promised port. Until the virtual node listens, nothing does there, and a client socket may hold the
 * port for a moment: on loopback a connect to a free port in the ephemeral range can connect to itself, and the
 * team's node retries its parent on exactly this port. So EADDRINUSE is retried for IN_USE_GRACE_MS before it is
 * reported: a port held by another listener stays in use; one held by such a socket is free again within that time.
 */
async function listen(node: CpnNode, port: number, clock: Clock): Promise<void> {
  for (let waited = 0; ; waited += 100) {
    try {
      await node.listen();
      return;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE' && waited < IN_USE_GRACE_MS) {
        await clock.sleep(100);
        continue;
      }
      await node.close().catch(() => undefined);
      if (err.code === 'EADDRINUSE')
        throw new CheckSetupError(
          'environment',
          `port ${port} is in use: the virtual node cannot listen where \`check init\` promised`,
        );
      throw new CheckSetupError('environment', `the virtual node could not listen on port ${port}: ${err.message}`);
    }
  }
}

async function build(
  config: Parameters<typeof createNode>[0],
  deps: { logger: Logger; clock: Clock },
): Promise<CpnNode> {
  try {
    return await createNode(config, { clock: deps.clock, logger: deps.logger, randomBytes: cryptoRandomBytes });
  } catch (e) {
    throw new CheckSetupError(
      'environment',
      `the virtual ${config.role} node cannot start from ${config.dataDir}: ${(e as Error).message}`,
    );
  }
}

/** Builds the virtual national node from the state folder without listening (init uses it to make the root). */
export function buildNational(state: CheckState, deps: { logger: Logger; clock: Clock }): Promise<CpnNode> {
  return build(
    {
      role: 'national',
      code: 'CPN',
      host: state.host,
      port: state.national.port,
      dataDir: state.national.dataDir,
      autoReview: true,
      acceptance: 'automatic',
      ...FAST,
    },
    deps,
  );
}

/** Starts the virtual nodes of a state folder on their promised ports; the regional one is brought online first. */
export async function startVirtualNodes(
  state: CheckState,
  options: { logger?: Logger; clock?: Clock; waitMs: number },
): Promise<VirtualNodes> {
  const deps = {
    logger: options.logger ?? pino({ level: 'silent' }),
    clock: options.clock ?? systemClock,
  };
  const national = await buildNational(state, deps);
  await listen(national, state.national.port, deps.clock);
  let regional: CpnNode | null = null;
  if (state.regional) {
    const r = state.regional;
    regional = await build(
      {
        role: 'regional',
        code: r.code,
        host: state.host,
        port: r.port,
        dataDir: r.dataDir,
        parentUrl: `http://${state.host}:${state.national.port}`,
        applicationFile: r.application,
        trustAnchor: state.trustAnchor,
        autoReview: true,
        acceptance: 'automatic',
        ...FAST,
      },
      deps,
    );
    await listen(regional, r.port, deps.clock).catch(async (e: unknown) => {
      await national.close();
      throw e;
    });
    // `waitMs` is of the nodes' clock: wall time when it is the system clock (the default).
    const end = deps.clock.now() + options.waitMs;
    while (regional.context.state.lifecycle !== 'online') {
      if (deps.clock.now() > end) {
        await regional.close();
        await national.close();
        throw new CheckSetupError(
          'environment',
          `the virtual regional node ${r.code} did not come online within ${options.waitMs} ms (lifecycle ` +
            `${regional.context.state.lifecycle})`,
        );
      }
      await deps.clock.sleep(100);
    }
  }
  const close = async () => {
    await regional?.close();
    await national.close();
  };
  return { national, regional, parent: regional ?? national, close };
}
