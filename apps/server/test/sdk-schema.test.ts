import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SDK_SCHEMA_FILE, sdkSchemaSource } from '../../../scripts/sdk-schema.ts';

/** CI's check that the SDK's committed types are those of the server's OpenAPI document as it is now. */
describe('@aiops/sdk types', () => {
  it('are current: run npm run sdk:generate and commit packages/sdk/src/openapi.gen.ts if this fails', async () => {
    const committed = readFileSync(fileURLToPath(SDK_SCHEMA_FILE), 'utf8');
    const fresh = await sdkSchemaSource();
    expect(fresh.length).toBeGreaterThan(100_000);
    expect(committed === fresh).toBe(true);
  }, 240_000);
});
