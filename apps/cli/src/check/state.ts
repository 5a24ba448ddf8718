import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parsePrefix } from './prefix.ts';

/** What `cpnet check init` keeps in the state folder (state.json) for `cpnet check run`. */
export const CheckState = z.strictObject({
  version: z.literal(1),
  as: z.enum(['regional', 'industry']),
  /** The code the team's node is expected to apply for. */
  code: z.string(),
  national: z.strictObject({ port: z.number().int().min(1).max(65535), dataDir: z.string() }),
  /** The virtual regional parent of an industry target. */
  regional: z
    .strictObject({
      code: z.string(),
      port: z.number().int().min(1).max(65535),
      dataDir: z.string(),
      application: z.string(),
    })
    .nullable(),
  trustAnchor: z.string(),
  application: z.string(),
  host: z.string(),
});
export type CheckState = z.output<typeof CheckState>;

/** A usage problem (exit 2) or an environment problem (exit 3) of init/run. */
export class CheckSetupError extends Error {
  constructor(
    readonly kind: 'usage' | 'environment',
    message: string,
  ) {
    super(message);
  }
}

const STATE_FILE = 'state.json';

/** Reads the state folder written by `cpnet check init`. */
export function loadState(dir: string): CheckState {
  const file = path.join(dir, STATE_FILE);
  if (!existsSync(file))
    throw new CheckSetupError(
      'usage',
      `${dir} is not a check state folder (no ${STATE_FILE}); run \`cpnet check init --state ${dir}\` first`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckSetupError('environment', `cannot read ${file}: ${(e as Error).message}`);
  }
  const v = CheckState.safeParse(raw);
  if (!v.success)
    throw new CheckSetupError(
      'usage',
      `${file} is not a valid check state: ${v.error.issues[0]?.path.join('.')}: ${v.error.issues[0]?.message}`,
    );
  return v.data;
}

/** Writes the state file. */
export function saveState(dir: string, state: CheckState): void {
  writeFileSync(path.join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** Whether nothing holds `port` on `host` right now (a listener or a client socket's local port). */
function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/**
 * A port free right now on `host`, picked below Linux's ephemeral range (32768–60999): `check run` listens on it again
 * at every run, and a port from that range may meanwhile be taken as the local port of any outgoing connection on
 * the machine (the run would then exit 3, the port in use). After 50 tries the OS picks one (port 0).
 */
export async function freePort(host: string): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = randomInt(20_000, 32_768);
    if (await isFree(host, port)) return port;
  }
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The parent URL a target applies to. */
export function parentUrlOf(state: CheckState): string {
  const port = state.regional ? state.regional.port : state.national.port;
  return `http://${state.host}:${port}`;
}

// Valid 统一社会信用代码 (GB 32100) used by the sample applications; the team replaces them with its own.
const ORGS = {
  builder: { name: '示例算力建设有限公司', creditCode: '91510100MA6CXXXX1D' },
  operator: { name: '示例算力运营有限公司', creditCode: '91510100MA6CYYYY26' },
  institution: { name: '示例省大数据中心', creditCode: '12510000MB0P12345R' },
  other: { name: '示例区域运营有限公司', creditCode: '91440300MA5FAAAA39' },
} as const;

/** A sample application (申报) for `code` that meets every rule of the guide; the node fills endpoint and publicKey. */
export function sampleApplication(code: string, options: { virtualParent?: boolean } = {}): Record<string, unknown> {
  const p = parsePrefix(code);
  const role = p.industry ? 'industry' : 'regional';
  const builder = options.virtualParent ? ORGS.other : ORGS.builder;
  const operator = options.virtualParent ? ORGS.institution : ORGS.operator;
  return {
    role,
    region: p.region,
    industry: p.industry,
    name: role === 'regional' ? `${p.region} 区域节点（示例）` : `${p.region} ${p.industry} 行业节点（示例）`,
    builder: { ...builder, registeredCapitalWanYuan: 20000, fundingCapacityDeclared: true },
    operator: { ...operator, telecomLicence: options.virtualParent ? null : 'B1-20260001' },
    consortium: null,
    credit: { records: [] },
    site: { province: p.region, city: '成都', address: '天府新区示例路 1 号' },
    contact: { name: '联调负责人', phone: '028-00000000', email: 'ops@example.cn' },
  };
}

/** Creates the state folder; the national root itself is made by `init` (it needs a node). */
export function prepareStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CheckSetupError('environment', `cannot create ${dir}: ${(e as Error).message}`);
  }
}
