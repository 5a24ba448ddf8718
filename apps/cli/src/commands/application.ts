import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '@cpnet/kernel/system';
import { AttachmentKind, EXIT, PROTOCOL_HEADER, PROTOCOL_VERSION, type Dossier } from '@cpnet/protocol';
import {
  NETWORK_RULES,
  renderDossierHtml,
  renderDossierMarkdown,
  sampleDossier,
  validateDossier,
  type Lang,
  type Reason,
} from '@cpnet/guide';
import { CliExit, environmentFailed, invalidInput } from '../exit.ts';
import type { Io } from '../io.ts';
import { attachmentFileReasons, digestOf, guideFor, readDossier } from '../application/files.ts';
import { NoChromium, printPdf } from '../print/pdf.ts';

function lang(value: string | undefined): Lang {
  if (value === undefined || value === 'zh') return 'zh';
  if (value === 'en') return 'en';
  throw invalidInput(`--lang must be zh or en, not "${value}"`);
}

function at(value: string | undefined): number {
  if (value === undefined) return systemClock.now(); // wall time: the applicant's own machine
  const ms = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw invalidInput(`--at must be an RFC 3339 time with an offset, not "${value}"`);
  return ms;
}

function write(file: string, data: string | Uint8Array): void {
  try {
    writeFileSync(file, data);
  } catch (e) {
    throw environmentFailed(`cannot write ${file}: ${(e as Error).message}`);
  }
}

/** The rules only a node can check, asked of the node at `url` (public: no credentials). */
async function networkReasons(url: string, input: { dossier: Dossier; lang: Lang }): Promise<Reason[]> {
  const d = input.dossier.declaration;
  const q = new URLSearchParams({ role: d.role, region: d.region, lang: input.lang });
  if (d.industry) q.set('industry', d.industry);
  const codes = [
    d.builder.creditCode,
    d.operator.creditCode,
    ...(d.consortium?.members ?? []).map((m) => m.creditCode),
  ];
  q.set('creditCodes', codes.join(','));
  let res: Response;
  const abort = new AbortController();
  // Wall time: a network timeout guarding a real link.
  const cancel = systemClock.setTimeout(() => abort.abort(), 10_000);
  try {
    res = await fetch(`${url.replace(/\/$/, '')}/cpn/v1/application-checks?${q.toString()}`, {
      headers: { [PROTOCOL_HEADER]: PROTOCOL_VERSION },
      signal: abort.signal,
    });
  } catch (e) {
    throw environmentFailed(`cannot reach ${url}: ${(e as Error).message}`);
  } finally {
    cancel();
  }
  const body = (await res.json().catch(() => null)) as { reasons?: Reason[]; error?: { message: string } } | null;
  if (!res.ok || !body?.reasons)
    throw environmentFailed(`${url} did not check the network rules: ${res.status} ${body?.error?.message ?? ''}`);
  return body.reasons;
}

function printReasons(io: Io, reasons: readonly Reason[]): void {
  for (const r of reasons) io.out(`✗ ${r.field}: ${r.message} [${r.rule}]`);
}

/** `cpnet application init | attach | validate | export`: the dossier (申报书, 建设方案, attachments) offline. */
export function registerApplicationCommands(program: Command, io: Io): void {
  const app = program
    .command('application')
    .description('prepare an application dossier (申报书, 节点建设方案, attachments) under a province guide');

  app
    .command('init')
    .description('write a dossier to fill in, for a regional node or an industry node of the guide')
    .argument('<file>', 'the dossier JSON to write')
    .option('--guide <file>', 'the guide file (default guides/sichuan-2026.yaml)')
    .option('--role <role>', 'regional or industry', 'industry')
    .option('--industry <code>', 'the 中类 of an industry node, e.g. C151')
    .option('--force', 'overwrite an existing file')
    .addHelpText(
      'after',
      '\nExamples:\n  $ cpnet application init baijiu.json --role industry --industry C151\n' +
        '  $ cpnet application attach baijiu.json --kind legal-person 法人证明.pdf',
    )
    .action((file: string, opts: { guide?: string; role: string; industry?: string; force?: boolean }) => {
      if (opts.role !== 'regional' && opts.role !== 'industry')
        throw invalidInput(`--role must be regional or industry, not "${opts.role}"`);
      if (existsSync(file) && !opts.force) throw invalidInput(`${file} exists; pass --force to overwrite it`);
      const guide = guideFor({ ...(opts.guide ? { file: opts.guide } : {}) });
      const d = sampleDossier(guide, { role: opts.role, ...(opts.industry ? { industry: opts.industry } : {}) });
      write(file, `${JSON.stringify({ ...d, attachments: [] }, null, 2)}\n`);
      io.out(`wrote ${file} (${guide.id}, ${opts.role}); fill it in, then add the attachments with`);
      io.out(`  cpnet application attach ${file} --kind <${AttachmentKind.options.join('|')}> <file>`);
    });

  app
    .command('attach')
    .description('add (or replace) an attachment in the manifest: its kind, size and SHA-256 digest')
    .argument('<dossier>', 'the dossier JSON')
    .argument('<file>', 'the attachment, e.g. a PDF beside the dossier')
    .requiredOption('--kind <kind>', AttachmentKind.options.join(' | '))
    .option('--media-type <type>', 'its media type (default from the extension)')
    .option('--guide <file>', "the guide file (default: the dossier's guide in guides/)")
    .action((dossierFile: string, file: string, opts: { kind: string; mediaType?: string; guide?: string }) => {
      const kind = AttachmentKind.safeParse(opts.kind);
      if (!kind.success) throw invalidInput(`--kind must be one of ${AttachmentKind.options.join(', ')}`);
      const d = readDossier(dossierFile);
      if (!existsSync(file)) throw invalidInput(`${file} does not exist`);
      const ext = file.toLowerCase().split('.').pop() ?? '';
      const types: Record<string, string> = {
        pdf: 'application/pdf',
        png: 'image/png',
        jpg: 'image/jpeg',
        jpeg: 'image/jpeg',
      };
      const mediaType = opts.mediaType ?? types[ext] ?? 'application/octet-stream';
      const rel = relative(dirname(resolve(dossierFile)), resolve(file));
      const entry = { kind: kind.data, file: rel, mediaType, ...digestOf(file) };
      // The guide's type and size limits for this kind, checked now: a wrong file is refused, and nothing is written.
      const guide = guideFor({ ...(opts.guide ? { file: opts.guide } : {}), id: d.guide });
      const material = guide.materials.find((m) => m.kind === kind.data);
      if (material && !material.mediaTypes.includes(mediaType))
        throw invalidInput(
          `${rel}: ${mediaType}; the guide takes ${material.mediaTypes.join(', ')} for ${kind.data} (${material.title})` +
            ' — pass --media-type if the extension misleads',
        );
      if (material && entry.bytes > material.maxBytes)
        throw invalidInput(
          `${rel}: ${entry.bytes} bytes, over the guide's limit of ${material.maxBytes} for ${kind.data}`,
        );
      const attachments = [...d.attachments.filter((a) => a.file !== rel), entry];
      write(dossierFile, `${JSON.stringify({ ...d, attachments }, null, 2)}\n`);
      io.out(`${kind.data} ${rel} ${entry.bytes} bytes sha256 ${entry.sha256}`);
    });

  app
    .command('validate')
    .description("check a dossier against the guide's rules offline; with --node also the rules that need one")
    .argument('<dossier>', 'the dossier JSON')
    .option('--guide <file>', 'the guide file (default: the one the dossier names, from guides/)')
    .option('--lang <lang>', 'zh (default) or en')
    .option('--at <time>', 'check as of this RFC 3339 time (default now)')
    .option('--node <url>', 'also check one-per-province, one-per-中类 and disqualifications at this node')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 every rule met, 1 rules broken (each reason printed), 2 invalid file, 3 the node unreachable.',
    )
    .action(
      async (file: string, opts: { guide?: string; lang?: string; at?: string; node?: string; json?: boolean }) => {
        const l = lang(opts.lang);
        const d = readDossier(file);
        const guide = guideFor({ ...(opts.guide ? { file: opts.guide } : {}), id: d.guide });
        const reasons = [
          ...validateDossier(d, { guide, now: at(opts.at), lang: l }),
          ...attachmentFileReasons(d, { file, lang: l }),
          ...(opts.node ? await networkReasons(opts.node, { dossier: d, lang: l }) : []),
        ];
        const unchecked = opts.node ? [] : [...NETWORK_RULES];
        if (opts.json) io.out(JSON.stringify({ ok: reasons.length === 0, reasons, unchecked }));
        else {
          printReasons(io, reasons);
          if (reasons.length === 0)
            io.out(l === 'en' ? `✓ ${file} meets every rule checked` : `✓ ${file} 符合所检查的全部规则`);
          if (unchecked.length > 0)
            io.out(
              l === 'en'
                ? `not checked (they need a node, pass --node <url>): ${unchecked.join(', ')}`
                : `未检查（需联网，请加 --node <url>）：${unchecked.join('、')}`,
            );
        }
        if (reasons.length > 0) throw new CliExit(EXIT.CHECK_FAILED, `${reasons.length} rule(s) broken`);
      },
    );

  app
    .command('export')
    .description('write the 申报书 as PDF (Chromium) and Markdown, with a manifest of the attachments and digests')
    .argument('<dossier>', 'the dossier JSON')
    .requiredOption('--out <dir>', 'the folder to write into')
    .option('--guide <file>', 'the guide file (default: the one the dossier names, from guides/)')
    .option('--no-pdf', 'skip the PDF (no Chromium needed)')
    .option('--at <time>', 'the time printed on the documents (default now)')
    .action(async (file: string, opts: { out: string; guide?: string; pdf: boolean; at?: string }) => {
      const d = readDossier(file);
      const guide = guideFor({ ...(opts.guide ? { file: opts.guide } : {}), id: d.guide });
      const when = at(opts.at);
      try {
        mkdirSync(opts.out, { recursive: true });
      } catch (e) {
        throw environmentFailed(`cannot create ${opts.out}: ${(e as Error).message}`);
      }
      const stem = basename(file).replace(/\.json$/i, '');
      const md = renderDossierMarkdown(guide, d, { at: when });
      const html = renderDossierHtml(guide, d, { at: when });
      const written: { file: string; sha256: string; bytes: number }[] = [];
      const put = (name: string, data: string | Uint8Array) => {
        const path = join(opts.out, name);
        write(path, data);
        written.push({ file: name, ...digestOf(path) });
      };
      put(`${stem}.md`, md);
      put(`${stem}.html`, html);
      put(`${stem}.json`, `${JSON.stringify(d, null, 2)}\n`);
      if (opts.pdf) {
        try {
          put(`${stem}.pdf`, await printPdf(html, { footer: `${d.declaration.name} · ${guide.id}` }));
        } catch (e) {
          if (e instanceof NoChromium) throw environmentFailed(e.message);
          throw environmentFailed(`printing the PDF failed: ${(e as Error).message}`);
        }
      }
      const manifest = { guide: guide.id, documents: written, attachments: d.attachments };
      write(join(opts.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      for (const w of written) io.out(`${w.file}  ${w.bytes} bytes  sha256 ${w.sha256}`);
      io.out(`manifest.json  ${d.attachments.length} attachment(s)`);
    });
}
