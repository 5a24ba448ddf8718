// A worker thread hosting simulated nodes runs TypeScript source like the rest of cpnet: through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./thread-host.ts');
