import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import SwaggerParser from '@apidevtools/swagger-parser';

// Issue 18: docs/openapi.json passes Redocly's recommended ruleset (redocly.yaml at the root lists the one rule turned
// off and why) with 0 errors and 0 warnings, and swagger-parser validates it. Neither needs the network: Redocly's
// telemetry and update check are switched off, and the document has no external $ref.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const openapi = path.join(root, 'docs', 'openapi.json');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
}

/** Runs `redocly lint` (the installed CLI, offline) on a file, with the root's redocly.yaml. */
async function lint(file: string): Promise<LintReport> {
  const bin = path.join(root, 'node_modules', '.bin', 'redocly');
  const run = await promisify(execFile)(bin, ['lint', file, '--format=json'], {
    cwd: root,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return JSON.parse(run.stdout) as LintReport;
}

/** The document with an operation whose `{id}` is not declared (Redocly: path-parameters-defined). */
function broken(): Record<string, unknown> & { paths: Record<string, unknown> } {
  const doc = JSON.parse(readFileSync(openapi, 'utf8')) as Record<string, unknown> & { paths: Record<string, unknown> };
  doc.paths['/cpn/v1/broken/{id}'] = {
    get: {
      operationId: 'broken',
      summary: 'broken',
      tags: ['meta'],
      security: [],
      responses: { '200': { description: 'OK' }, '400': { description: 'bad' } },
    },
  };
  return doc;
}

describe('docs/openapi.json', () => {
  it('passes Redocly lint (recommended, redocly.yaml) with no error and no warning', async () => {
    const report = await lint(openapi);
    const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('is a valid OpenAPI 3.1 document for swagger-parser', async () => {
    const doc = JSON.parse(readFileSync(openapi, 'utf8')) as Parameters<typeof SwaggerParser.validate>[0];
    const api = (await SwaggerParser.validate(doc)) as { openapi: string; paths: Record<string, unknown> };
    expect(api.openapi).toBe('3.1.0');
    expect(Object.keys(api.paths).length).toBeGreaterThan(30);
  });

  it('both refuse a broken document (the checks can fail)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cpnet-lint-'));
    try {
      const file = path.join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(broken()));
      const report = await lint(file);
      expect(report.problems.map((p) => p.ruleId)).toContain('path-parameters-defined');
      expect(report.totals.errors).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // swagger-parser does not hold 3.1 path parameters to their template; a $ref to nothing it refuses.
    const dangling = broken();
    dangling.paths['/cpn/v1/broken/{id}'] = {
      get: { responses: { '200': { $ref: '#/components/responses/Missing' } } },
    };
    await expect(
      SwaggerParser.validate(dangling as unknown as Parameters<typeof SwaggerParser.validate>[0]),
    ).rejects.toThrow(/Missing/);
  });
});
