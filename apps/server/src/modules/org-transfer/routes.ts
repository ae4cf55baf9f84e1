import { z } from 'zod';
import type { AppModule } from '../../module.ts';
import { MAX_ARCHIVE_BYTES, packArchive, unpackArchive } from './archive.ts';
import { exportOrganization } from './export.ts';
import { importOrganization } from './import.ts';

const tags = ['organization'];

const exportBodySchema = z.object({
  includeRuns: z.boolean().default(false).describe('Also runs, steps, agent calls and logs (within from/to)'),
  from: z.iso.datetime({ offset: true }).optional().describe('Runs created at or after'),
  to: z.iso.datetime({ offset: true }).optional().describe('Runs created before'),
  password: z
    .string()
    .min(8, 'An export password has at least 8 characters')
    .max(1024)
    .optional()
    .describe('Secrets are re-encrypted under it (scrypt + AES-256-GCM); without one they are left out'),
});

const importBodySchema = z.object({
  archive: z
    .base64()
    .max(Math.ceil((MAX_ARCHIVE_BYTES * 4) / 3) + 4)
    .describe('The export file, base64'),
  password: z.string().max(1024).optional(),
  dryRun: z.boolean().default(false).describe('Only validate and answer what would be created'),
  name: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('The new organization name (default: the source name)'),
});

const importReportSchema = z.object({
  dryRun: z.boolean(),
  organization: z.object({ id: z.string().nullable(), name: z.string() }),
  create: z.record(z.string(), z.number()),
  refused: z.array(z.object({ table: z.string(), id: z.string().optional(), reason: z.string() })),
  secrets: z.object({ imported: z.number(), omitted: z.number() }),
  clearedReferences: z.number(),
});

/** Organization export (an archive file) and import (into a new organization owned by the caller). */
export const orgTransferModule: AppModule = (deps) => async (app) => {
  app.post(
    '/organization/export',
    {
      config: { permission: 'organization:export' },
      schema: {
        tags,
        summary: 'Export the organization as a versioned archive (gzip JSON)',
        body: exportBodySchema,
      },
    },
    async (request, reply) => {
      const { archive } = await exportOrganization(request, deps.secrets, request.body);
      const date = archive.exportedAt.slice(0, 10);
      return reply
        .header('content-type', 'application/gzip')
        .header('content-disposition', `attachment; filename="organization-${date}.aiops.json.gz"`)
        .send(packArchive(archive));
    },
  );
  app.post(
    '/organization/import',
    {
      bodyLimit: Math.ceil((MAX_ARCHIVE_BYTES * 4) / 3) + 64 * 1024,
      // A dry run changes nothing; an import audits itself in its transaction (in the new organization).
      config: { permission: 'authenticated', audit: false },
      schema: {
        tags,
        summary: 'Create a new organization, owned by you, from an export archive (dryRun: the report only)',
        body: importBodySchema,
        response: { 200: importReportSchema, 201: importReportSchema },
      },
    },
    async (request, reply) => {
      const archive = unpackArchive(Buffer.from(request.body.archive, 'base64'));
      const report = await importOrganization(request, deps.secrets, archive, request.body);
      return reply.code(report.dryRun ? 200 : 201).send(report);
    },
  );
};
