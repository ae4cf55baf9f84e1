import { z } from 'zod';
import { PERMISSIONS } from './permissions.ts';

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('the first characters of the key, to recognise it'),
    scopes: z.array(z.enum(PERMISSIONS)),
    rateLimit: z.number().int().describe('requests per minute'),
    userId: z.uuid().nullable().describe('who created it'),
    lastUsedAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyDto = z.infer<typeof apiKeySchema>;

export const createApiKeyBodySchema = z.object({
  name: z.string().trim().min(1).max(255),
  scopes: z
    .array(z.enum(PERMISSIONS))
    .min(1, 'give at least one scope')
    .max(PERMISSIONS.length)
    .describe("a subset of the creator's permissions"),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('ISO 8601; omit for a key that does not expire'),
  rateLimit: z.number().int().min(1).max(100_000).default(100).describe('requests per minute'),
});

export const createApiKeyResponseSchema = z.object({
  apiKey: apiKeySchema,
  key: z.string().describe('the secret (aio_…): shown this once, store it now'),
});
