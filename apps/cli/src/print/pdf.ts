import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Chromium flags that work offline, as root and without a GPU (the same as the browser tests'). */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium on PATH (or $CHROMIUM_PATH), or null when it is not installed. */
export function findChromium(): string | null {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not this name
    }
  }
  return null;
}

/** Raised when no Chromium is there to print with; the CLI maps it to a clear message and a non-zero exit. */
export class NoChromium extends Error {
  constructor() {
    super('printing a PDF needs Chromium: apt-get install -y chromium fonts-wqy-zenhei (or set CHROMIUM_PATH)');
    this.name = 'NoChromium';
  }
}

export interface PrintOptions {
  /** A4 unless given. */
  format?: 'A4' | 'Letter';
  /** Text in the page footer, e.g. the document's title and digest. */
  footer?: string;
}

/**
 * Prints a self-contained HTML page (inline styles, no network) to PDF with headless Chromium, so Chinese text is
 * rendered with the system's CJK font (Debian: fonts-wqy-zenhei) and stays extractable (`pdftotext` finds it).
 * playwright-core is loaded only here, so commands that never print do not load it.
 */
export async function printPdf(html: string, options: PrintOptions = {}): Promise<Uint8Array> {
  const executablePath = findChromium();
  if (!executablePath) throw new NoChromium();
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'cpnet-print-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    // Block every request: a printed document must not depend on (or leak to) the network.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    const footer = options.footer ?? '';
    return await page.pdf({
      format: options.format ?? 'A4',
      printBackground: true,
      margin: { top: '18mm', bottom: '18mm', left: '16mm', right: '16mm' },
      displayHeaderFooter: true,
      headerTemplate: '<span></span>',
      footerTemplate:
        '<div style="font-size:8px;width:100%;text-align:center;color:#555">' +
        `${escapeHtml(footer)} · <span class="pageNumber"></span>/<span class="totalPages"></span></div>`,
    });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
