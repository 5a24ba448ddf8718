import { afterAll, afterEach } from 'vitest';
import { takeViolations } from './responses.ts';

// Fails the test during which a watched node (tests/src/nodes.ts) answered outside docs/openapi.json.
const fail = () => {
  const v = takeViolations();
  if (v.length > 0)
    throw new Error(`${v.length} answer(s) outside docs/openapi.json:\n${[...new Set(v)].slice(0, 20).join('\n')}`);
};
afterEach(fail);
afterAll(fail);
