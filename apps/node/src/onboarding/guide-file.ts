import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadGuide, type Guide } from '@cpnet/guide';
import type { NodeConfig } from '../config.ts';

const loaded = new WeakMap<NodeConfig, Guide | null>();

/**
 * The node's guide (`guideFile`, YAML or JSON), read once per configuration; null when none is configured (the
 * rehearsal chain). A file that cannot be read or does not fit the schema throws, naming it (createNode turns that
 * into a ConfigError: the start stops, the CLI exits 2).
 */
export function guideOf(config: NodeConfig): Guide | null {
  const held = loaded.get(config);
  if (held !== undefined) return held;
  let guide: Guide | null = null;
  if (config.guideFile) {
    let data: unknown;
    try {
      data = parse(readFileSync(config.guideFile, 'utf8'));
    } catch (e) {
      throw new Error(`guideFile: ${config.guideFile}: ${(e as Error).message}`, { cause: e });
    }
    const g = loadGuide(data);
    if (!g.ok) throw new Error(`guideFile: ${config.guideFile}: ${g.error}`);
    guide = g.value;
  }
  loaded.set(config, guide);
  return guide;
}
