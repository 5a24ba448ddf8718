import fc from 'fast-check';
import { formatIdentifier, IDENTIFIER_PATTERN } from '@cpnet/identifier';

/** The subset of JSON Schema that docs/openapi.json uses (zod 4's `toJSONSchema` output). */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly propertyNames?: JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly $ref?: string;
}

/** Where `$ref`s point (the document's `components.schemas`) and strings worth trying in any string field. */
export interface SchemaContext {
  readonly schemas: Readonly<Record<string, JsonSchema>>;
  /** Real identifiers, accounts and codes of the running nodes, so some values reach past "not found". */
  readonly known: readonly string[];
  /** Names of records that exist at the nodes (identifiers, jobs, applications): path parameters try them most. */
  readonly records: readonly string[];
}

// Nested $refs (a job's history, a record's value) are cut off here: deep values are the mutations' business.
const MAX_DEPTH = 6;
const SAFE = Number.MAX_SAFE_INTEGER;

function resolve(ref: string, ctx: SchemaContext): JsonSchema {
  const name = ref.replace('#/components/schemas/', '');
  const s = ctx.schemas[name];
  if (!s) throw new Error(`openapi.json: unresolved $ref ${ref}`);
  return s;
}

/** Identifiers shaped by the pattern, 5 in 6 with their check characters recomputed (so they are valid). */
function withRightCheck(shaped: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const fixed = shaped.map((id) => {
    const m = /^(.+)\/([A-Z]{2})-(.+)..$/.exec(id);
    const r = m ? formatIdentifier({ prefix: m[1]!, kind: m[2]! as never, serial: m[3]! }) : null;
    return r?.ok ? r.value : id;
  });
  return fc.oneof({ arbitrary: fixed, weight: 5 }, { arbitrary: shaped, weight: 1 });
}

function stringArb(s: JsonSchema, ctx: SchemaContext): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(s.maxLength ?? 40, 40));
  const random = fc.string({ minLength, maxLength, unit: 'binary' });
  const options: fc.Arbitrary<string>[] = [random, fc.constantFrom(...ctx.known)];
  if (s.format === 'date-time') {
    const date = fc.date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2199-12-31T00:00:00Z'),
      noInvalidDate: true,
    });
    options.push(date.map((d) => d.toISOString()));
  } else if (s.pattern !== undefined) {
    try {
      const shaped = fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= Math.max(maxLength, 200));
      // The pattern cannot know an identifier's check characters: most generated ones get the right pair, so they
      // pass validation and reach the handler; the rest keep a random pair and test the check.
      options.push(s.pattern === IDENTIFIER_PATTERN ? withRightCheck(shaped) : shaped);
    } catch {
      // A pattern fast-check cannot generate from: random and known strings still exercise the field.
    }
  }
  // Random and known strings are mostly refused where a pattern or format applies: the valid ones weigh most.
  const weighted = options.map((arbitrary, i) => ({ arbitrary, weight: i < 2 ? 1 : 6 }));
  return fc.oneof(...weighted);
}

function numberArb(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lo = Math.max(
    s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : -SAFE),
    -SAFE,
  );
  const hi = Math.min(
    s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : SAFE),
    SAFE,
  );
  const inRange = integer
    ? fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) })
    : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
  return fc.oneof(inRange, fc.constantFrom(lo, hi, integer ? Math.ceil(lo) : lo));
}

function objectArb(s: JsonSchema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const props = s.properties ?? {};
  const record = fc.record(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, valueOf(v, ctx, depth + 1)])), {
    requiredKeys: (s.required ?? []).filter((k) => k in props),
  });
  const extra = s.additionalProperties;
  if (extra === undefined || extra === false || Object.keys(props).length > 0) return record;
  const keys = s.propertyNames ? valueOf(s.propertyNames, ctx, depth + 1).map(String) : fc.string({ maxLength: 12 });
  const values = extra === true ? fc.jsonValue({ maxDepth: 2 }) : valueOf(extra, ctx, depth + 1);
  return fc.dictionary(keys, values, { maxKeys: 3 });
}

function typed(s: JsonSchema & { type: string }, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  switch (s.type) {
    case 'string':
      return stringArb(s, ctx);
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? 3, 3));
      return fc.array(s.items ? valueOf(s.items, ctx, depth + 1) : fc.jsonValue({ maxDepth: 1 }), {
        minLength,
        maxLength,
      });
    }
    case 'object':
      return objectArb(s, ctx, depth);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

/** A value that the schema accepts, most of the time: patterns and formats are mixed with known and random strings. */
export function valueOf(schema: JsonSchema, ctx: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref !== undefined) {
    return depth > MAX_DEPTH ? fc.constant({}) : valueOf(resolve(schema.$ref, ctx), ctx, depth + 1);
  }
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => valueOf(a, ctx, depth + 1)));
  if (schema.allOf?.[0]) return valueOf(schema.allOf[0], ctx, depth + 1);
  const type = schema.type ?? (schema.properties ? 'object' : undefined);
  if (type === undefined) return fc.jsonValue({ maxDepth: 2 });
  if (typeof type === 'string') return typed({ ...schema, type }, ctx, depth);
  return fc.oneof(...type.map((t) => typed({ ...schema, type: t }, ctx, depth)));
}
