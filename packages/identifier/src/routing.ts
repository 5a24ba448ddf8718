import { childToward, isWithin, parentPrefix } from './prefix.ts';

/** Where a node sends a resolution: answer itself, down to a child, or up to its parent. */
export type Route =
  | { readonly to: 'local' }
  | { readonly to: 'down'; readonly child: string }
  | { readonly to: 'up'; readonly parent: string | null };

/**
 * Decides who answers for `targetPrefix` at the node owning `nodePrefix`, like Handle/DNS delegation:
 * a node answers for its own prefix, sends down to the child owning a longer prefix, and up otherwise.
 * The national node has no parent (`up` with parent null means "unknown everywhere").
 */
export function route(nodePrefix: string, targetPrefix: string): Route {
  if (targetPrefix === nodePrefix) return { to: 'local' };
  const child = childToward(nodePrefix, targetPrefix);
  if (child !== null) return { to: 'down', child };
  return { to: 'up', parent: parentPrefix(nodePrefix) };
}

/** The chain of prefixes from the root to `prefix`, inclusive (`CPN`, `CPN.51`, `CPN.51.C151`). */
export function ancestry(prefix: string): string[] {
  const parts = prefix.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

/** True when the node at `nodePrefix` (or one of its descendants) owns `targetPrefix`. */
export function inSubtree(nodePrefix: string, targetPrefix: string): boolean {
  return isWithin(targetPrefix, nodePrefix);
}
