import { z } from 'zod';
import { Action, Expectation, Scenario } from './schema.ts';

/** The JSON Schema (draft 2020-12) of scenario files, as an editor validates them (input shape). */
export function scenarioJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(Scenario, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown> & {
    properties?: Record<string, unknown>;
  };
  // Steps are chosen by key at run time; for editors, describe them as one of the two unions.
  const step = {
    anyOf: [
      z.toJSONSchema(Action, { io: 'input', unrepresentable: 'any' }),
      z.toJSONSchema(Expectation, { io: 'input', unrepresentable: 'any' }),
    ],
  };
  if (schema.properties) schema.properties['steps'] = { type: 'array', items: step };
  return { ...schema, $id: 'https://cpnet.invalid/schemas/scenario.json', title: 'cpnet scenario' };
}
