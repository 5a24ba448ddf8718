import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferIo, run } from '../index.ts';
import { findChromium } from '../print/pdf.ts';

async function cpnet(...args: string[]) {
  const io = bufferIo();
  const code = await run(['node', 'cpnet', ...args], io);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
}

const dir = mkdtempSync(join(tmpdir(), 'cpnet-application-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'baijiu.json');
const AT = '2026-03-20T10:00:00+08:00';
const KINDS = ['legal-person', 'funding-proof', 'telecom-licence', 'credit-pledge', 'performance'];

describe('cpnet application', () => {
  it('init writes a dossier that lacks only its attachments; attach adds them by digest; then it validates', async () => {
    expect((await cpnet('application', 'init', file, '--industry', 'C151')).code).toBe(0);
    expect((await cpnet('application', 'init', file)).code).toBe(2); // exists, no --force
    const bare = await cpnet('application', 'validate', file, '--at', AT);
    expect(bare.code).toBe(1);
    expect(bare.out).toContain('✗ attachments.credit-pledge: 缺少附件：信用承诺函 [attachment]');
    expect(bare.out).toContain('未检查（需联网，请加 --node <url>）：one-regional-per-province');
    for (const kind of KINDS) {
      writeFileSync(join(dir, `${kind}.pdf`), `%PDF-1.4 ${kind}`);
      const r = await cpnet('application', 'attach', file, join(dir, `${kind}.pdf`), '--kind', kind);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/sha256 [0-9a-f]{64}/);
    }
    // A file the guide does not take for its kind is refused at once, naming the rule, and the dossier is unchanged.
    const before = readFileSync(file, 'utf8');
    writeFileSync(join(dir, 'pledge.txt'), 'not a pdf');
    const wrong = await cpnet('application', 'attach', file, join(dir, 'pledge.txt'), '--kind', 'credit-pledge');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('the guide takes application/pdf, image/png, image/jpeg for credit-pledge');
    expect(readFileSync(file, 'utf8')).toBe(before);
    const ok = await cpnet('application', 'validate', file, '--at', AT);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.out).toContain('符合所检查的全部规则');
  });

  it('gives every reason, in English on request, and notices an attachment changed after attaching', async () => {
    const d = JSON.parse(readFileSync(file, 'utf8'));
    d.declaration.builder.capital = { paidInWanYuan: 1000, subscribedWanYuan: 4000 };
    d.declaration.operator.licence.number = '无';
    d.plan.technicalRoute = '';
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(d));
    writeFileSync(join(dir, 'performance.pdf'), 'changed');
    const r = await cpnet('application', 'validate', bad, '--at', AT, '--lang', 'en', '--json');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out) as { reasons: { field: string; message: string }[] };
    expect(out.reasons.map((x) => x.field)).toEqual([
      'declaration.builder.capital',
      'declaration.operator.licence.number',
      'plan.technicalRoute',
      'attachments.4.sha256',
    ]);
    expect(out.reasons[0]!.message).toBe(
      "the builder's registered capital (paid-in-or-subscribed) is 4000 万元, below 5000 万元",
    );
    writeFileSync(join(dir, 'performance.pdf'), '%PDF-1.4 performance');
  });

  it('refuses a malformed dossier or guide naming the field (exit 2)', async () => {
    const d = JSON.parse(readFileSync(file, 'utf8'));
    delete d.plan.security;
    writeFileSync(join(dir, 'nosec.json'), JSON.stringify(d));
    const r = await cpnet('application', 'validate', join(dir, 'nosec.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('plan.security');
    writeFileSync(join(dir, 'guide.yaml'), 'id: x\n');
    const g = await cpnet('application', 'validate', file, '--guide', join(dir, 'guide.yaml'));
    expect(g.code).toBe(2);
    expect(g.err).toMatch(/guide file .*guide\.yaml: /);
  });

  it('export writes Markdown, HTML and a manifest with digests', async () => {
    const out = join(dir, 'export');
    const r = await cpnet('application', 'export', file, '--out', out, '--no-pdf', '--at', AT);
    expect(r.code).toBe(0);
    const md = readFileSync(join(out, 'baijiu.md'), 'utf8');
    for (const t of [
      '## 一、申报书',
      '## （一）建设目标',
      '## （四）实施计划',
      '## （七）核心系统建设细节',
      '## 六、附件清单',
    ])
      expect(md).toContain(t);
    expect(md).toContain('生成时间：2026-03-20 10:00:00 (Asia/Shanghai)');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.attachments).toHaveLength(5);
    expect(manifest.documents.map((x: { file: string }) => x.file)).toEqual([
      'baijiu.md',
      'baijiu.html',
      'baijiu.json',
    ]);
  });

  const hasPdftotext = (() => {
    try {
      execFileSync('which', ['pdftotext']);
      return true;
    } catch {
      return false;
    }
  })();
  // .ci/run installs chromium and poppler-utils; a machine without them skips with the reason.
  it.skipIf(findChromium() === null || !hasPdftotext)(
    'export prints the 申报书 to PDF with the Chinese section titles readable by pdftotext',
    { timeout: 90_000 },
    async () => {
      const out = join(dir, 'pdf');
      const r = await cpnet('application', 'export', file, '--out', out, '--at', AT);
      expect(r.code).toBe(0);
      const text = execFileSync('pdftotext', ['-enc', 'UTF-8', join(out, 'baijiu.pdf'), '-'], { encoding: 'utf8' });
      for (const t of [
        '一、申报书',
        '二、建设主体',
        '（一）建设目标',
        '（三）技术路线',
        '（五）资金保障',
        '（六）安全措施',
        '（七）核心系统建设细节',
      ])
        expect(text).toContain(t);
      expect(text).toContain('国家算力互联互通白酒行业节点');
    },
  );
});
