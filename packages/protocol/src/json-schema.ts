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

const MODULES = [node, onboarding, identifiers, resources, scheduling, events, links, snapshot, gateway, placement];

/** Every exported message schema as JSON Schema (draft 2020-12), keyed by name; input shapes (what a sender writes). */
export function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const mod of MODULES) {
    for (const [name, value] of Object.entries(mod)) {
      if (value instanceof z.ZodType) out[name] = z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' });
    }
  }
  return out;
}
