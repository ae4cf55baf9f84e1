/** `npm run sdk:generate`: writes packages/sdk/src/openapi.gen.ts; `-- --check` fails if it is not current. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SDK_SCHEMA_FILE, sdkSchemaSource } from './sdk-schema.ts';

const source = await sdkSchemaSource();
const file = fileURLToPath(SDK_SCHEMA_FILE);
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== source) {
    process.stderr.write(`${file} is not current: run npm run sdk:generate and commit it\n`);
    process.exit(1);
  }
  process.stdout.write(`${file} is current\n`);
} else {
  writeFileSync(file, source);
  process.stdout.write(`wrote ${file}\n`);
}
