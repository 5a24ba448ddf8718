import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

/** The /monitor messages of docs/asyncapi.json a test checks, by socket event name. */
const MONITOR_MESSAGES = {
  snapshot: 'MonitorSnapshot',
  history: 'MonitorHistory',
  event: 'MonitorEventTyped',
  events: 'MonitorEventBatchTyped',
  /** A snapshot as a recording holds it (no `protocol`). */
  state: 'TopologySnapshot',
};

/** docs/asyncapi.json as committed. */
export function asyncApiDoc(): {
  channels: Record<string, { messages: Record<string, { name: string }> }>;
  components: { schemas: Record<string, unknown> };
} {
  return JSON.parse(readFileSync(new URL('../../docs/asyncapi.json', import.meta.url), 'utf8')) as ReturnType<
    typeof asyncApiDoc
  >;
}

// zod writes `$schema` into every component; inside one document only the root may say it.
function withoutSchemaKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutSchemaKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== '$schema')
        .map(([k, x]) => [k, withoutSchemaKeys(x)]),
    );
  return v;
}

/**
 * Validates what a /monitor socket receives against docs/asyncapi.json (ajv, JSON Schema 2020-12) and keeps every
 * failure and a count per message and event type, for a test to assert on.
 */
export function contractValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
  ajv.addSchema({ $id: 'asyncapi', ...(withoutSchemaKeys(asyncApiDoc()) as object) });
  const validators = Object.fromEntries(
    Object.entries(MONITOR_MESSAGES).map(([k, name]) => [
      k,
      ajv.compile({ $ref: `asyncapi#/components/schemas/${name}` }),
    ]),
  ) as Record<keyof typeof MONITOR_MESSAGES, ReturnType<Ajv2020['compile']>>;
  const failures: string[] = [];
  const seen: Record<string, number> = {};
  return {
    failures,
    seen,
    check(kind: keyof typeof MONITOR_MESSAGES, value: unknown): void {
      const key = kind === 'event' ? `event:${(value as { type?: string }).type}` : kind;
      seen[key] = (seen[key] ?? 0) + 1;
      const v = validators[kind];
      if (!v(value)) failures.push(`${key}: ${ajv.errorsText(v.errors)} in ${JSON.stringify(value).slice(0, 400)}`);
    },
  };
}
