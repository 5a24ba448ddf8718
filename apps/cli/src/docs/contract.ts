import { openApiDocument } from '@cpnet/node';
import { asyncApiDocument } from './asyncapi.ts';
import { vectorFiles } from './vectors.ts';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** The language-neutral contract: every generated file under docs/, by path relative to docs/, with its text. */
export async function contractFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {
    'openapi.json': json(openApiDocument()),
    'asyncapi.json': json(asyncApiDocument()),
  };
  for (const [name, v] of Object.entries(await vectorFiles())) out[`vectors/${name}`] = json(v);
  return out;
}
