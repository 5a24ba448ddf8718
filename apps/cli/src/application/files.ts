import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Dossier, validate } from '@cpnet/protocol';
import { loadGuide, type Guide, type Lang, type Reason } from '@cpnet/guide';
import { environmentFailed, invalidInput } from '../exit.ts';

/** The repository's `guides/` folder, where `<dossier.guide>.yaml` is looked up when no --guide is given. */
export const GUIDES_DIR = fileURLToPath(new URL('../../../../guides/', import.meta.url));

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === 'ENOENT'
      ? invalidInput(`${what} ${file} does not exist`)
      : environmentFailed(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Reads a guide file (YAML or JSON) and validates it; exit 2 naming the field when it is malformed. */
export function readGuide(file: string): Guide {
  let data: unknown;
  try {
    data = parse(readText(file, 'guide file'));
  } catch (e) {
    throw invalidInput(`guide file ${file}: ${(e as Error).message}`);
  }
  const g = loadGuide(data);
  if (!g.ok) throw invalidInput(`guide file ${file}: ${g.error}`);
  return g.value;
}

/** The guide named by --guide, or the one the dossier names in the repository's guides/ folder. */
export function guideFor(input: { file?: string; id?: string }): Guide {
  if (input.file) return readGuide(input.file);
  const id = input.id ?? 'sichuan-2026';
  const file = resolve(GUIDES_DIR, `${id}.yaml`);
  if (!/^[a-z0-9-]+$/.test(id) || !existsSync(file))
    throw invalidInput(`no guide "${id}" in ${GUIDES_DIR}; pass --guide <file>`);
  return readGuide(file);
}

/** Reads and validates a dossier JSON file; exit 2 naming the field when it does not fit the schema. */
export function readDossier(file: string): Dossier {
  let data: unknown;
  try {
    data = JSON.parse(readText(file, 'dossier'));
  } catch (e) {
    if (e instanceof SyntaxError) throw invalidInput(`dossier ${file}: not JSON: ${e.message}`);
    throw e;
  }
  const v = validate(Dossier, data);
  if (!v.ok) throw invalidInput(`dossier ${file}: ${v.error.error.message}`);
  return v.value;
}

/** A file's SHA-256 (hex) and size. */
export function digestOf(file: string): { sha256: string; bytes: number } {
  const bytes = readFileSync(file);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/** Attachment files (beside the dossier) that are missing or differ from the manifest's size or digest. */
export function attachmentFileReasons(dossier: Dossier, input: { file: string; lang: Lang }): Reason[] {
  const dir = dirname(input.file);
  const out: Reason[] = [];
  dossier.attachments.forEach((a, i) => {
    const path = resolve(dir, a.file);
    if (!existsSync(path) || !statSync(path).isFile()) {
      out.push({
        rule: 'attachment-file',
        field: `attachments.${i}.file`,
        message: input.lang === 'en' ? `attachment file ${a.file} is not there` : `附件文件"${a.file}"不存在`,
      });
      return;
    }
    const d = digestOf(path);
    if (d.sha256 !== a.sha256 || d.bytes !== a.bytes)
      out.push({
        rule: 'attachment-digest',
        field: `attachments.${i}.sha256`,
        message:
          input.lang === 'en'
            ? `attachment ${a.file} is ${d.bytes} bytes with SHA-256 ${d.sha256}, not what the manifest says`
            : `附件"${a.file}"的大小或 SHA-256 与清单不符（实际 ${d.bytes} 字节，${d.sha256}）`,
      });
  });
  return out;
}
