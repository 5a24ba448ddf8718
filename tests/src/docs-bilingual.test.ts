import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '@cpnet/protocol';
import { checkIds } from '@cpnet/cli';
import { cleanup, startTestNode } from './nodes.ts';

// The contract a team builds from is docs/ in English and Chinese. The ids and codes come from the code itself, so a
// check or an error code added without its documentation (in both languages) fails here.
const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');
const read = (name: string) => readFileSync(path.join(docs, name), 'utf8');

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];
/** Every check id a run can report: the regional list, the industry list (adds `national:…`). */
const CHECK_IDS = [...new Set([...checkIds('regional'), ...checkIds('industry')])];
const TWINS = ['errors', 'profiles', 'conformance'] as const;

/** The inline-code spans of a Markdown text (outside fenced blocks; a span may wrap onto the next line). */
function spans(text: string): Set<string> {
  const prose = text.replace(/^[ \t]*```[^\n]*\n[\s\S]*?^[ \t]*```[ \t]*$/gm, '');
  return new Set([...prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s*\n\s*/g, ' ')));
}
const mentioned = (text: string, known: readonly string[]) => known.filter((k) => spans(text).has(k)).sort();

/** The first cells of the table rows whose first cell is one inline-code span: `| \`X\` | …`. */
function rowKeys(text: string): string[] {
  return [...text.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]!);
}

describe('docs/ in English and Chinese', () => {
  it.each(TWINS)('%s.md and its zh-CN twin name the same check ids and error codes', (name) => {
    const en = read(`${name}.md`);
    const zh = read(`${name}.zh-CN.md`);
    expect(mentioned(zh, CODES), `error codes in ${name}.zh-CN.md vs ${name}.md`).toEqual(mentioned(en, CODES));
    expect(mentioned(zh, CHECK_IDS), `check ids in ${name}.zh-CN.md vs ${name}.md`).toEqual(mentioned(en, CHECK_IDS));
    // Both lists empty would make the comparison vacuous (a fence or a stray backtick can hide every span).
    expect(mentioned(en, [...CODES, ...CHECK_IDS]).length, `${name}.md names no code or check id`).toBeGreaterThan(0);
    expect(en).toContain(`(${name}.zh-CN.md)`);
    expect(zh).toContain(`(${name}.md)`);
  });

  it.each(['errors.md', 'errors.zh-CN.md'])(
    '%s catalogues every code of ERROR_CODES once, with its HTTP status and exit code',
    (file) => {
      const rows = [...read(file).matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/gm)];
      const documented = rows.map((m) => m[1]!);
      expect([...documented].sort(), `codes catalogued in ${file}`).toEqual([...CODES].sort());
      expect(new Set(documented).size, `a code is catalogued twice in ${file}`).toBe(documented.length);
      for (const [, code, status, exit] of rows) {
        const entry = ERROR_CODES[code as ErrorCode];
        expect(
          { code, status: Number(status), exit: Number(exit) },
          `${file}: the row of ${code} differs from ERROR_CODES`,
        ).toEqual({ code, status: entry.status, exit: entry.exit });
      }
    },
  );

  it.each(['conformance.md', 'conformance.zh-CN.md'])('%s describes every check id the checker reports', (file) => {
    const text = read(file);
    expect(mentioned(text, CHECK_IDS), `check ids named in ${file}`).toEqual([...CHECK_IDS].sort());
    // The per-check table: one row per check of the regional list, no row for a check that does not exist.
    const rows = rowKeys(text).filter((k) => /^(national:)?[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(k));
    expect([...rows].sort(), `rows of the check table in ${file}`).toEqual([...checkIds('regional')].sort());
  });
});

describe('docs/deployment.md and its zh-CN twin', () => {
  const en = read('deployment.md');
  const zh = read('deployment.zh-CN.md');
  const series = (text: string) => [...spans(text)].filter((s) => /^cpn_[a-z_]+$/.test(s)).sort();
  const variables = (text: string) => [...spans(text)].filter((s) => /^CPNET_[A-Z_]+$/.test(s)).sort();

  it('link each other and name the same series and variables', () => {
    expect(en).toContain('(deployment.zh-CN.md)');
    expect(zh).toContain('(deployment.md)');
    expect(series(zh)).toEqual(series(en));
    expect(variables(zh)).toEqual(variables(en));
  });

  it("document every cpn_* series a node's /metrics exposes, and no other", async () => {
    const node = await startTestNode({ role: 'national', code: 'CPN' });
    try {
      const text = await (await fetch(`${node.url}/metrics`)).text();
      const exposed = [...text.matchAll(/^# TYPE (cpn_[a-z_]+) /gm)].map((m) => m[1]!).sort();
      expect(exposed.length).toBeGreaterThan(5);
      expect(series(en), 'series named in deployment.md').toEqual(exposed);
    } finally {
      await node.stop();
      cleanup();
    }
  });
});
