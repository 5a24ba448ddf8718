import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIo, run } from '@cpnet/cli';
import type { AcceptanceCase } from '@cpnet/protocol';
import { applicationFile, cleanup, eventually, lifecycleOf, startTestNode, tempDir, type TestNode } from './nodes.ts';

// `cpnet account` and `cpnet acceptance` against real nodes: a national authority that accepts by decision and a
// regional node that waits for it (待验收); the report printed by Chromium and read back with pdftotext.
let national: TestNode;
let regional: TestNode;
const started: TestNode[] = [];
const dir = tempDir();
const pw = (name: string, value: string) => {
  const file = join(dir, `${name}.pw`);
  writeFileSync(file, value);
  return file;
};

async function cpnet(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIo();
  const code = await run(['node', 'cpnet', ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

function hasTools(): boolean {
  try {
    execFileSync('which', ['pdftotext']);
    execFileSync('sh', ['-c', 'which chromium || which chromium-browser || test -n "$CHROMIUM_PATH"']);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  national = await startTestNode({ role: 'national', code: 'CPN', autoReview: true, acceptance: 'authority' });
  const rdir = tempDir();
  regional = await startTestNode({
    role: 'regional',
    code: 'CPN.51',
    parentUrl: national.url,
    dataDir: rdir,
    applicationFile: applicationFile(rdir),
    acceptancePollMs: 200,
  });
  started.push(national, regional);
  const op = await national.self.createAccount({ id: 'ops-1', name: '运维', role: 'operator', password: 'ops-pass-1' });
  if (!op.ok) throw new Error(op.error.message);
}, 30_000);
afterAll(async () => {
  for (const n of started.reverse()) await n.stop();
  cleanup();
});

describe('cpnet account', () => {
  it('creates people of every role with an operator credential, lists, mints viewer tokens, disables', async () => {
    const asOps = ['--node', national.url, '--as', 'ops-1', '--password-file', pw('ops', 'ops-pass-1')];
    const newPw = ['--new-password-file', pw('new', 'strong-pass-1')];
    for (const [id, role] of [
      ['officer-li', 'acceptance-officer'],
      ['sup-zhao', 'supervisor'],
      ['expert-he', 'expert'],
      ['viewer-1', 'viewer'],
    ] as const) {
      const r = await cpnet('account', 'create', '--id', id, '--name', id, '--role', role, ...newPw, ...asOps);
      expect(r.code, r.err).toBe(0);
    }
    const bad = await cpnet('account', 'create', '--id', 'x1', '--name', 'x', '--role', 'king', ...newPw, ...asOps);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/role/);
    const list = await cpnet('account', 'list', ...asOps);
    expect(list.out).toMatch(/officer-li\tacceptance-officer\tactive/);
    const viewer = await cpnet('account', 'token', '--viewer', 'viewer-1', ...asOps);
    expect(viewer.code, viewer.err).toBe(0);
    expect(viewer.out.split('.')).toHaveLength(3);
    expect((await cpnet('account', 'disable', '--id', 'expert-he', '--reason', '调离', ...asOps)).code).toBe(0);
    const gone = await cpnet(
      'account',
      'token',
      '--node',
      national.url,
      '--as',
      'expert-he',
      '--password-file',
      pw('new2', 'strong-pass-1'),
    );
    expect(gone.code).toBe(2);
  });

  it('bootstraps the first operator into a stopped node’s data folder', async () => {
    const data = tempDir();
    const args = ['account', 'create', '--id', 'first-op', '--name', '首位运维', '--role', 'operator', '--data', data];
    const first = await cpnet(...args, '--new-password-file', pw('first', 'first-pass-1'));
    expect(first.code, first.err).toBe(0);
    const again = await cpnet(...args, '--new-password-file', pw('first', 'first-pass-1'));
    expect([again.code, again.err]).toEqual([2, 'cpnet: account first-op exists']);
  });
});

describe('cpnet acceptance', () => {
  const asOfficer = () => ['--node', national.url, '--as', 'officer-li', '--password-file', pw('off', 'strong-pass-1')];

  it('refuses a decision before the evidence, then decides and exports the report as JSON and PDF', async () => {
    await eventually(async () => {
      const r = await cpnet('acceptance', 'show', '--case', 'CPN.51', '--json', ...asOfficer());
      return r.code === 0 && (JSON.parse(r.out) as AcceptanceCase).status === 'awaiting-acceptance';
    }, 20_000);
    const early = await cpnet(
      'acceptance',
      'decide',
      '--case',
      'CPN.51',
      '--decision',
      'pass',
      '--reason',
      '好',
      ...asOfficer(),
    );
    expect(early.code).toBe(2);
    expect(early.err).toMatch(/evidence/);
    expect((await cpnet('acceptance', 'gather', '--case', 'CPN.51', ...asOfficer())).code).toBe(0);
    const cond = await cpnet(
      'acceptance',
      'decide',
      '--case',
      'CPN.51',
      '--decision',
      'pass-with-conditions',
      '--reason',
      '联调通过',
      '--condition',
      `补充应急演练记录@${new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 19)}+08:00`,
      ...asOfficer(),
    );
    expect(cond.code, cond.err).toBe(0);
    const pass = await cpnet(
      'acceptance',
      'decide',
      '--case',
      'CPN.51',
      '--decision',
      'pass',
      '--reason',
      '条件已满足',
      ...asOfficer(),
    );
    expect(pass.out).toMatch(/CPN.51: accepted/);
    await eventually(async () => (await lifecycleOf(regional)) === 'online', 20_000);
    const out = join(dir, 'report-51');
    const report = await cpnet(
      'acceptance',
      'report',
      '--case',
      'CPN.51',
      '--out',
      out,
      ...(hasTools() ? [] : ['--no-pdf']),
      ...asOfficer(),
    );
    expect(report.code, report.err).toBe(0);
    const json = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as AcceptanceCase;
    expect(json.decisions.map((d) => d.decision)).toEqual(['pass-with-conditions', 'pass']);
    expect(json.evidence?.security.length).toBeGreaterThan(5);
    if (!hasTools()) return;
    expect(existsSync(`${out}.pdf`)).toBe(true);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', `${out}.pdf`, '-'], { encoding: 'utf8' });
    for (const title of [
      '算力互联互通节点验收报告',
      '一、建设实施计划',
      '二、对接联调',
      '三、验收证据',
      '五、验收结论',
      '六、监督指导',
    ])
      expect(text).toContain(title);
    // The header paragraph (table cells may wrap in narrow columns): status and a time as people read it.
    const flat = text.replace(/\s+/g, '');
    expect(flat).toContain('状态：已验收');
    expect(flat).toMatch(/批复时间：\d{4}-\d{2}-\d{2}\d{2}:\d{2}（北京时间）/);
  }, 90_000);
});
