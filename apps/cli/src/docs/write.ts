// `npm run docs`: writes the language-neutral contract (OpenAPI, AsyncAPI, test vectors) into docs/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { contractFiles } from './contract.ts';

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../docs');
for (const [name, text] of Object.entries(await contractFiles())) {
  const file = path.join(docs, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
