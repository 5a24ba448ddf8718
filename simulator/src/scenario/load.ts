import { isCollection, isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { Scenario } from './schema.ts';
import { unknownNodes } from './references.ts';

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
        const { offset, note } = yamlErrorOffset({ doc, text, offset: e.pos[0] });
        const pos = lines.linePos(offset);
        return {
          file,
          line: pos.line,
          column: pos.col,
          field: '',
          message: `YAML: ${e.message.split('\n')[0]}${note}`,
        };
      }),
    };
  }
  const r = Scenario.safeParse(doc.toJS());
  if (r.success) {
    const unknown = unknownNodes(r.data);
    if (unknown.length === 0) return { ok: true, value: r.data };
    return {
      ok: false,
      errors: unknown.slice(0, 20).map((u) => {
        const pos = lines.linePos(offsetOf(doc, u.path));
        const hint = u.suggestion ? `; did you mean ${u.suggestion}?` : '';
        return {
          file,
          line: pos.line,
          column: pos.col,
          field: u.path.join('.'),
          message: `node ${u.code} is not in the topology${hint}`,
        };
      }),
    };
  }
  return { ok: false, errors: r.error.issues.slice(0, 20).map((issue) => locate({ doc, lines, file, issue })) };
}

/**
 * Where to report a YAML error. One found at the end of the text (an unclosed quote or flow collection) is placed
 * where the unclosed construct opens, else at the end of the last line, never on a line past the end of the file.
 */
function yamlErrorOffset(o: { doc: Document; text: string; offset: number }): { offset: number; note: string } {
  const end = o.text.replace(/\s+$/, '').length;
  if (o.offset < end) return { offset: o.offset, note: '' };
  const opener = { at: -1 };
  visit(o.doc, (_key, node) => {
    const open =
      (isCollection(node) && node.flow === true) ||
      (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE'));
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!open || !range || range[1] < end || range[0] <= opener.at) return;
    // A construct that closes on the last character also reaches the end: only an unclosed one counts. A flow
    // collection's closing bracket must come after its last item (else it is a nested collection's).
    const source = o.text.slice(range[0], range[1]).trimEnd();
    const closer = source[0] === '{' ? '}' : source[0] === '[' ? ']' : source[0];
    const lastItemEnd = isCollection(node) ? Math.max(0, ...node.items.map(itemEnd)) : 0;
    const closed = source.length >= 2 && source.endsWith(closer ?? '') && range[0] + source.length > lastItemEnd;
    if (!closed) opener.at = range[0];
  });
  if (opener.at >= 0) return { offset: opener.at, note: ' (opened here, still open at the end of the file)' };
  return { offset: Math.max(0, end - 1), note: ' (at the end of the file)' };
}

function itemEnd(item: unknown): number {
  const withRange = (n: unknown) => (n as { range?: [number, number, number] } | null | undefined)?.range?.[1] ?? 0;
  return isPair(item) ? Math.max(withRange(item.key), withRange(item.value)) : withRange(item);
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
