import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT } from '@cpnet/protocol';
import { parseDuration, runScenario, summarise, type Scenario, type SimNode } from '@cpnet/simulator';
import { CliExit, environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';
import { loadScenarioFile } from './sim.ts';

const DEMO = fileURLToPath(new URL('../../../../scenarios/demo.yaml', import.meta.url));

/** Options of `cpnet demo`. */
interface DemoOptions {
  port: string;
  faultCycle?: string;
  speed?: string;
  scenario: string;
  viz: boolean;
  data?: string;
}

/** What the demo's viewer uses of the national node. */
type ViewerHost = Pick<SimNode, 'running' | 'self' | 'anon'>;

/**
 * The demo's stated credential: the viewer account `demo-viewer` (password `demo-viewer-pass`) at the national node.
 * The page's token is obtained and renewed with it, as a person would (account, password, token).
 */
const DEMO_VIEWER = { account: 'demo-viewer', password: 'demo-viewer-pass' } as const;
/**
 * The demo's tenant at the national node (`demo-tenant`, password `demo-tenant-pass`): the service centre's selections
 * go with its token, so that the viewer account keeps only what a viewer may do.
 */
const DEMO_TENANT = { account: 'demo-tenant', password: 'demo-tenant-pass' } as const;
/** The demo's reviewing accounts the visualiser's 申报与验收 board reads with (see accountTokens). */
const DEMO_REVIEWER = { id: 'demo-reviewer', role: 'reviewer', password: 'demo-reviewer-pass' } as const;
const DEMO_EXPERT = { id: 'demo-expert', role: 'expert', password: 'demo-expert-pass' } as const;
/** Seconds of the node's (virtual) clock a demo viewer token lasts: the node's maximum. */
const DEMO_TOKEN_TTL_S = 3600;
/** Wall ms between renewals when virtual time has no fixed speed (`max`): a refused token is renewed at once anyway. */
const RENEW_AT_MAX_MS = 30_000;

/** A renewal's answer, as the visualiser server takes it (`ServeOptions.renew`). */
type Renewed = { ok: true; token: string; renewInMs: number } | { ok: false; error: string };

/**
 * Makes the demo's viewer at the national node (an account with a password) and returns its first token and the
 * renewal the visualiser's page calls before that token expires (and at once when the node refuses it). A token lives
 * an hour of the node's time — six real minutes at speed 10 — and the demo runs until Ctrl-C. Undefined when the
 * national node is not running.
 */
export async function viewerRenewal(
  national: ViewerHost | undefined,
  speed: number | 'max',
): Promise<{ token: string; renew: () => Promise<Renewed> } | undefined> {
  if (!national?.running) return undefined;
  await national
    .self()
    .createAccount({ id: DEMO_VIEWER.account, name: '演示观众', role: 'viewer', password: DEMO_VIEWER.password });
  const renew = async (): Promise<Renewed> => {
    if (!national.running) return { ok: false, error: 'the national node is not running' };
    const t = await national
      .anon()
      .token({ account: DEMO_VIEWER.account, password: DEMO_VIEWER.password, ttlSeconds: DEMO_TOKEN_TTL_S });
    if (!t.ok) return { ok: false, error: `${DEMO_VIEWER.account}: ${t.error.message}` };
    // The token's lifetime is in the node's clock, which runs `speed` times faster than the wall: half of it in wall
    // time is early enough whichever clock checks it.
    const renewInMs = speed === 'max' ? RENEW_AT_MAX_MS : (t.value.expiresIn * 1000) / speed / 2;
    return { ok: true, token: t.value.token, renewInMs };
  };
  const first = await renew();
  return first.ok ? { token: first.token, renew } : undefined;
}

/**
 * Makes the demo's tenant at the national node and returns how a selection gets a token: a fresh one each time
 * (selections are a reviewer's clicks, not a stream; a password login costs a hash). Undefined when the national node
 * is not running or refuses the account.
 */
export async function tenantTokens(
  national: ViewerHost | undefined,
): Promise<(() => Promise<{ ok: true; token: string } | { ok: false; error: string }>) | undefined> {
  if (!national?.running) return undefined;
  const made = await national
    .self()
    .createAccount({ id: DEMO_TENANT.account, name: '演示租户', role: 'tenant', password: DEMO_TENANT.password });
  if (!made.ok) return undefined;
  return async () => {
    if (!national.running) return { ok: false, error: 'the national node is not running' };
    const t = await national.anon().token({ account: DEMO_TENANT.account, password: DEMO_TENANT.password });
    return t.ok
      ? { ok: true, token: t.value.token }
      : { ok: false, error: `${DEMO_TENANT.account}: ${t.error.message}` };
  };
}

/**
 * A demo account made at the national node — and, on first use, at each regional node the board reads (node-signed
 * account creation, as at the national node) — and a function logging it in at the node asked for (the national one
 * without a node); undefined when it cannot be made at the national node. The visualiser's 申报与验收 board reads with
 * two: `demo-reviewer` (role reviewer: the applications and their chains) and `demo-expert` (role expert: the
 * acceptance cases) — the node lets each role read one of the two.
 */
export async function accountTokens(
  hosts: { get(code: string): ViewerHost | undefined },
  account: { id: string; name: string; role: 'reviewer' | 'expert'; password: string },
): Promise<
  ((node?: { code: string }) => Promise<{ ok: true; token: string } | { ok: false; error: string }>) | undefined
> {
  const national = hosts.get('CPN');
  if (!national?.running) return undefined;
  const made = await national.self().createAccount(account);
  if (!made.ok) return undefined;
  // One creation per node, shared by the reads that ask at once (the board reads a node's chains in parallel).
  const madeAt = new Map<string, Promise<{ ok: true } | { ok: false; error: string }>>([
    ['CPN', Promise.resolve({ ok: true })],
  ]);
  return async (node) => {
    const code = node?.code ?? 'CPN';
    const host = hosts.get(code);
    if (!host?.running) return { ok: false, error: `node ${code} is not running` };
    let making = madeAt.get(code);
    if (!making) {
      making = host
        .self()
        .createAccount(account)
        .then((r) => (r.ok ? { ok: true as const } : { ok: false as const, error: r.error.message }));
      madeAt.set(code, making);
    }
    const there = await making;
    if (!there.ok) {
      madeAt.delete(code);
      return { ok: false, error: `${account.id} at ${code}: ${there.error}` };
    }
    const t = await host.anon().token({ account: account.id, password: account.password });
    return t.ok
      ? { ok: true, token: t.value.token }
      : { ok: false, error: `${account.id} at ${code}: ${t.error.message}` };
  };
}

/** The fault cycle in virtual ms, or null for none; a bad value names the option. */
function faultCycle(option: string | undefined, builtIn: boolean): number | null {
  if (option === undefined) return builtIn ? DEMO_FAULT_CYCLE_MS : null;
  if (option === 'off') return null;
  let ms: number;
  try {
    ms = parseDuration(option);
  } catch {
    throw invalidInput(`--fault-cycle: "${option}" is not a duration; expected e.g. 10m, 90s or off`);
  }
  if (!(ms >= 60_000)) throw invalidInput(`--fault-cycle must be at least 1m of virtual time, got "${option}"`);
  return ms;
}

/** Virtual time after which the default demo plays its faults again (one wall minute at its speed 10). */
const DEMO_FAULT_CYCLE_MS = 10 * 60_000;

/**
 * The scenario's fault and heal steps again every `cycleMs` of virtual time until `untilMs`, so that a visitor who
 * arrives late still sees a fault and its recovery. Copies get their own fault names (`dark~2`), so each heal finds its
 * own fault; a heal naming a target instead of a fault is copied as it is.
 */
export function repeatFaults(steps: Scenario['steps'], o: { cycleMs: number; untilMs: number }): Scenario['steps'] {
  type Step = Scenario['steps'][number];
  type FaultOrHeal = Extract<Step, { do: 'fault' }> | Extract<Step, { do: 'heal' }>;
  const faults = steps.filter((s): s is FaultOrHeal => 'do' in s && (s.do === 'fault' || s.do === 'heal'));
  const named = new Set(faults.flatMap((s) => (s.do === 'fault' && s.fault.name ? [s.fault.name] : [])));
  const out = [...steps];
  for (let k = 1; ; k++) {
    const copies = faults.filter((s) => s.at + k * o.cycleMs <= o.untilMs);
    if (copies.length === 0) break;
    for (const s of copies) {
      const at = s.at + k * o.cycleMs;
      if (s.do === 'fault')
        out.push({ ...s, at, fault: { ...s.fault, ...(s.fault.name ? { name: `${s.fault.name}~${k + 1}` } : {}) } });
      else out.push({ ...s, at, fault: named.has(s.fault) ? `${s.fault}~${k + 1}` : s.fault });
    }
  }
  return out;
}

/** `cpnet demo` (= `npm start`): a lively topology, a continuous workload with faults, and the visualiser, until Ctrl-C. */
export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description(
      'start the demonstration: national, Sichuan and its industries, western hubs and eastern demand, a continuous ' +
        'workload with occasional faults, and the live visualiser',
    )
    .option('--port <port>', 'port of the visualiser (0 picks a free one)', '0')
    .option('--speed <x>', "virtual time runs this many times faster than real time (default: the scenario's)")
    .option('--scenario <file>', 'run another scenario as the demo', DEMO)
    .option('--no-viz', 'do not start the visualiser')
    .option('--data <dir>', 'keep the node databases in this folder')
    .option(
      '--fault-cycle <duration>',
      'play the scenario\'s faults again every <duration> of virtual time, e.g. 10m, or "off" (default: 10m for the ' +
        'built-in demo, off for another scenario)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ npm start\n  $ npx cpnet demo --port 8080 --speed 20\n\nPrints "Visualiser: <url>" and every ' +
        "node's URL; Ctrl-C stops everything cleanly.",
    )
    .action(async (opts: DemoOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw invalidInput(`--port: "${opts.port}" is not a port; expected an integer 0–65535`);
      const speed = opts.speed === undefined ? undefined : Number(opts.speed);
      if (speed !== undefined && (!Number.isFinite(speed) || speed < 0.1 || speed > 1000))
        throw invalidInput(`--speed must be a number from 0.1 to 1000, got "${opts.speed}"`);
      const loaded = loadScenarioFile(opts.scenario);
      const cycle = faultCycle(opts.faultCycle, opts.scenario === DEMO);
      const scenario =
        cycle === null
          ? loaded
          : {
              ...loaded,
              steps: repeatFaults(loaded.steps, { cycleMs: cycle, untilMs: loaded.until ?? 0 }),
            };
      const stop = new AbortController();
      const onSignal = () => {
        io.out('\nstopping the demo …');
        stop.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let closeViz: (() => Promise<void>) | null = null;
      const report = await runScenario(scenario, {
        speed,
        dir: opts.data,
        logLevel: 'warn',
        baseDir: path.dirname(opts.scenario),
        signal: stop.signal,
        onStarted: async (net) => {
          io.out(
            `cpnet demo "${scenario.name}": ${net.plan.nodes.length} nodes, ${net.plan.providers.length} providers; ` +
              `nodes apply, are reviewed and come online in a few seconds`,
          );
          // A node the scenario starts with an apply step is not running yet (sichuan-2026's region and industries).
          for (const n of net.plan.nodes)
            io.out(
              `  ${n.code.padEnd(12)} ${net.nodes.has(n.code) ? net.urlOf(n.code) : '(starts when it applies)'}  ${n.name}`,
            );
          if (!opts.viz) return;
          const { serveVisualiser } = await import('@cpnet/visualiser');
          const viewer = await viewerRenewal(net.nodes.get('CPN'), speed ?? scenario.speed);
          const tenant = await tenantTokens(net.nodes.get('CPN'));
          const reviewer = await accountTokens(net.nodes, { ...DEMO_REVIEWER, name: '演示评审人' });
          const expert = await accountTokens(net.nodes, { ...DEMO_EXPERT, name: '演示评审专家' });
          const runSpeed = speed ?? scenario.speed;
          const viz = await serveVisualiser({
            port,
            liveUrl: net.urlOf('CPN'),
            // The page's one clock is the scenario's: virtual time since the run began, as the log below prints it.
            clock: {
              origin: new Date(net.clock.now() - net.clock.elapsed()).toISOString(),
              speed: runSpeed,
            },
            ...(viewer ? { token: viewer.token, renew: viewer.renew } : {}),
            ...(tenant ? { selectionToken: tenant } : {}),
            ...(reviewer && expert ? { pipelineTokens: { applications: reviewer, cases: expert } } : {}),
          }).catch((e: NodeJS.ErrnoException) => {
            throw e.code === 'EADDRINUSE'
              ? environmentFailed(`port ${port} is in use; choose another with --port`)
              : environmentFailed(`cannot start the visualiser: ${e.message}`);
          });
          closeViz = viz.close;
          io.out(`Visualiser: ${viz.url}`);
          io.out(
            `  the page's viewer token is renewed with the demo viewer account ${DEMO_VIEWER.account} ` +
              `(password ${DEMO_VIEWER.password}) at ${net.urlOf('CPN')}`,
          );
          if (tenant)
            io.out(
              `  the service centre's selections run as the demo tenant ${DEMO_TENANT.account} ` +
                `(password ${DEMO_TENANT.password})`,
            );
          if (reviewer && expert)
            io.out(
              `  the 申报与验收 board reads applications as ${DEMO_REVIEWER.id} (role reviewer, password ` +
                `${DEMO_REVIEWER.password}) and acceptance cases as ${DEMO_EXPERT.id} (role expert, password ` +
                `${DEMO_EXPERT.password})`,
            );
          io.out('Ctrl-C stops everything.');
        },
        onProgress: (p) => {
          if (p.kind === 'action')
            io.out(
              `[${(p.result.at / 60_000).toFixed(1)} min] ${p.result.ok ? '·' : '!'} ` +
                `${p.result.action}${p.result.ok ? '' : ` — ${p.result.detail}`}`,
            );
        },
      })
        .catch((e: unknown) => {
          if (e instanceof CliExit) throw e;
          throw new CliExit(EXIT.ENVIRONMENT, `the demo could not run: ${(e as Error).message}`);
        })
        .finally(async () => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await (closeViz as (() => Promise<void>) | null)?.();
        });
      io.out(summarise(report));
    });
}
