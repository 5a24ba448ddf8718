/**
 * Where a profiled script belongs (for `cpuprofile-top.ts` and `heapprofile-top.ts`): a workspace package, a
 * dependency, node's own code, or V8 (GC, idle, program, builtins) by the frame's name.
 */
export function area(url: string, name: string): string {
  if (!url) return `(${name || 'native'})`;
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dep) return dep[1]!;
  const ws = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (ws) return `@cpnet/${ws[2]}`;
  if (url.includes('/simulator/')) return '@cpnet/simulator';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}
