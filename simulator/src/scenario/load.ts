import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { Scenario } from './schema.ts';

/** Why a scenario file was refused: file, line, column, field and what was wrong. */
export interface ScenarioError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
  readonly message: string;
}

/** Formats errors as `file:line:col: field: message`, one per line. */
export function formatScenarioErrors(errors: readonly ScenarioError[]): string {
  return errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.field ? `${e.field}: ` : ''}${e.message}`).join('\n');
}

/** Parses and validates a scenario from YAML text; every error names the file, line and field. */
export function parseScenario(
  text: string,
  file = '<scenario>',
): { ok: true; value: Scenario } | { ok: false; errors: ScenarioError[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, field: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const r = Scenario.safeParse(doc.toJS());
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, errors: r.error.issues.slice(0, 20).map((issue) => locate({ doc, lines, file, issue })) };
}

function locate(o: { doc: Document; lines: LineCounter; file: string; issue: z.core.$ZodIssue }): ScenarioError {
  const path = o.issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const keyPath =
    o.issue.code === 'unrecognized_keys' && o.issue.keys[0] !== undefined ? [...path, o.issue.keys[0]] : path;
  const offset = offsetOf(o.doc, keyPath);
  const pos = o.lines.linePos(offset);
  return { file: o.file, line: pos.line, column: pos.col, field: keyPath.join('.'), message: describe(o.issue) };
}

/** The source offset of the deepest node on `path` that exists (a missing field points at its parent). */
function offsetOf(doc: Document, path: readonly (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const parentPath = path.slice(0, Math.max(0, n - 1));
    const key = path[n - 1];
    const parent = n === 0 ? doc.contents : doc.getIn(parentPath, true);
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    }
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return range[0];
  }
  return 0;
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `${issue.message}`;
    default:
      return issue.message;
  }
}
