/**
 * RFC 8785 (JCS) canonical JSON without recursion: values nested 100,000 levels deep (which a peer can send, since
 * `JSON.parse` accepts them) canonicalise instead of overflowing the stack. Same output and errors as the
 * `canonicalize` package, which recursed once per level.
 */

/** A piece of output already known, as opposed to a value still to write. */
class Text {
  constructor(readonly text: string) {}
}

/** Leaves an object or array: it may appear again beside itself (not inside itself). */
class Leave {
  constructor(readonly value: object) {}
}

function hasLoneSurrogate(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

function scalar(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new Error(Number.isNaN(value) ? 'NaN is not allowed' : 'Infinity is not allowed');
  if (typeof value === 'string' && hasLoneSurrogate(value)) throw new Error('Lone surrogate is not allowed');
  // ECMAScript's number serialisation is the one RFC 8785 §3.2.2.3 prescribes; strings are escaped as §3.2.2.2 asks.
  return JSON.stringify(value);
}

const skipped = (v: unknown) => v === undefined || typeof v === 'symbol' || typeof v === 'function';

/** RFC 8785 canonical JSON text of `value`; undefined when `value` itself has no JSON form (undefined, a function). */
export function canonicalJson(value: unknown): string | undefined {
  if (skipped(value)) return undefined;
  const out: string[] = [];
  const open = new Set<object>();
  const work: unknown[] = [value];
  while (work.length > 0) {
    let v = work.pop();
    if (v instanceof Text) {
      out.push(v.text);
      continue;
    }
    if (v instanceof Leave) {
      open.delete(v.value);
      continue;
    }
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      if (open.has(v)) throw new Error('Circular reference detected');
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    if (v === null || typeof v !== 'object') {
      out.push(skipped(v) ? 'null' : scalar(v));
      continue;
    }
    if (open.has(v)) throw new Error('Circular reference detected');
    open.add(v);
    // The stack is last in, first out: push the closing text first and the first item last.
    work.push(new Leave(v));
    if (Array.isArray(v)) {
      out.push('[');
      work.push(new Text(']'));
      for (let i = v.length - 1; i >= 0; i--) {
        work.push(v[i]);
        if (i > 0) work.push(new Text(','));
      }
      continue;
    }
    const record = v as Record<string, unknown>;
    const keys = Object.keys(record)
      .sort()
      .filter((k) => !skipped(record[k]));
    out.push('{');
    work.push(new Text('}'));
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      work.push(record[key]);
      work.push(new Text(`${i > 0 ? ',' : ''}${scalar(key)}:`));
    }
  }
  return out.join('');
}
