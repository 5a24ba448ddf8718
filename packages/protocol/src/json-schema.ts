import { z } from 'zod';
import * as node from './node.ts';
import * as onboarding from './onboarding.ts';
import * as identifiers from './identifiers.ts';
import * as resources from './resources.ts';
import * as scheduling from './scheduling.ts';
import * as events from './events.ts';
import * as links from './links.ts';
import * as snapshot from './snapshot.ts';
import * as gateway from './gateway.ts';
import * as placement from './placement.ts';
import * as monitoring from './monitoring.ts';
import * as answers from './answers.ts';
import * as certificates from './certificates.ts';

const MODULES = [
  node,
  onboarding,
  identifiers,
  resources,
  scheduling,
  events,
  links,
  snapshot,
  gateway,
  placement,
  monitoring,
  answers,
  certificates,
];

/** Every exported message schema as JSON Schema (draft 2020-12), keyed by name; input shapes (what a sender writes). */
export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const mod of MODULES) {
    // Sorted: a native ES module namespace lists its exports alphabetically, but a transformed one (vitest) in
    // declaration order; the generated documents must not depend on which loaded them.
    for (const [name, value] of Object.entries(mod).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (value instanceof z.ZodType) out[name] = z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' });
    }
  }
  return out;
}
