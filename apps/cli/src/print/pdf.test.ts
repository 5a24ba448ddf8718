import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml, findChromium, printPdf } from './pdf.ts';

function hasPdftotext(): boolean {
  try {
    execFileSync('which', ['pdftotext']);
    return true;
  } catch {
    return false;
  }
}

describe('printPdf', () => {
  it('escapes markup in text', () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#38;&#39;&#60;/a&#62;');
  });

  // .ci/run installs chromium and poppler-utils; a developer machine without them skips with the reason.
  const ready = findChromium() !== null && hasPdftotext();
  it.skipIf(!ready)('renders Chinese text that pdftotext can read back', { timeout: 60_000 }, async () => {
    const style = `font-family:'WenQuanYi Zen Hei',sans-serif`;
    const html = `<!doctype html><meta charset="utf-8"><body style="${style}"><h1>验收报告</h1><p>${escapeHtml('安全保障 <ok>')}</p>`;
    const pdf = await printPdf(html, { footer: '测试' });
    expect(Buffer.from(pdf.subarray(0, 5)).toString()).toBe('%PDF-');
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-pdf-'));
    try {
      writeFileSync(join(dir, 'a.pdf'), pdf);
      const text = execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'a.pdf'), '-'], { encoding: 'utf8' });
      expect(text).toContain('验收报告');
      expect(text).toContain('安全保障 <ok>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
