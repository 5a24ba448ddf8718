import { ensureBuilt } from '@cpnet/visualiser';

/** Builds the visualiser page once (vite build) when its dist/ is missing or older than its sources. */
export default async function setup(): Promise<void> {
  const built = await ensureBuilt();
  if (built) console.log('[browser tests] built apps/visualiser/dist');
}
