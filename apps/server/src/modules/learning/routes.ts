import { learningPatterns, PATTERN_TYPES } from '@aiops/db';
import { and, desc, eq, not, sql } from 'drizzle-orm';
import { z } from 'zod';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import type { AppModule } from '../../module.ts';
import { recommend } from './recommend.ts';
import { learnWorkflowPatterns } from './workflow-patterns.ts';

const tags = ['learning'];

const patternSchema = z.object({
  id: z.uuid(),
  userId: z.uuid().nullable().describe("null: the organization's aggregate; else the caller's own pattern"),
  patternType: z.enum(PATTERN_TYPES),
  key: z.string(),
  data: z.record(z.string(), z.unknown()),
  confidence: z.number(),
  occurrences: z.number(),
  lastSeenAt: z.string(),
  createdAt: z.string(),
});

const candidateSchema = z.object({
  model: z.string(),
  score: z.number(),
  quality: z.number().nullable(),
  qualityPerDollar: z.number().nullable(),
  avgCostUsd: z.number().nullable(),
  avgLatencyMs: z.number().nullable(),
  successRate: z.number().nullable(),
  samples: z.object({ answers: z.number(), ratings: z.number(), evaluations: z.number() }),
  confidence: z.number(),
});

/** What the platform learned from use, and model recommendations with their evidence. */
export const learningModule: AppModule = () => async (app) => {
  app.get(
    '/learning/patterns',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Learned patterns, most confident first',
        querystring: z.object({
          type: z.enum(PATTERN_TYPES).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ data: z.array(patternSchema) }) },
      },
    },
    async (request) =>
      tenant(request, async (tx) => {
        const rows = await tx
          .select()
          .from(learningPatterns)
          .where(
            and(
              not(sql`${learningPatterns.key} LIKE '$%'`),
              request.query.type ? eq(learningPatterns.patternType, request.query.type) : undefined,
            ),
          )
          .orderBy(
            desc(learningPatterns.confidence),
            desc(learningPatterns.occurrences),
            learningPatterns.key,
          )
          .limit(request.query.limit);
        return {
          data: rows.map((r) => ({
            id: r.id,
            userId: r.userId,
            patternType: r.patternType,
            key: r.key,
            data: r.data,
            confidence: Number(r.confidence),
            occurrences: r.occurrences,
            lastSeenAt: r.lastSeenAt.toISOString(),
            createdAt: r.createdAt.toISOString(),
          })),
        };
      }),
  );
  app.get(
    '/learning/recommendations',
    {
      config: { permission: 'agent:read' },
      schema: {
        tags,
        summary: 'Which model for this kind of task, with the evidence (quality per dollar, sample sizes)',
        querystring: z.object({
          task: z
            .string()
            .regex(/^[a-z0-9_-]{1,40}$/)
            .default('chat'),
          limit: z.coerce.number().int().min(1).max(50).default(5),
        }),
        response: {
          200: z.object({
            task: z.string(),
            scope: z
              .enum(['user', 'organization'])
              .describe("user: the caller's own ratings decide; organization: every member's"),
            recommended: z.string().nullable(),
            reason: z.string(),
            candidates: z.array(candidateSchema),
          }),
        },
      },
    },
    async (request) =>
      tenant(request, (tx) => recommend(tx, request.query.task, request.query.limit, authOf(request).userId)),
  );
  app.post(
    '/learning/refresh',
    {
      config: { permission: 'agent:update' },
      schema: {
        tags,
        summary:
          'Learn from the workflow runs completed since the last pass now (the job does it every 15 minutes)',
        response: { 200: z.object({ runs: z.number(), sequences: z.number() }) },
      },
    },
    async (request) =>
      tenant(request, async (tx) => {
        const out = await learnWorkflowPatterns(tx);
        await audit(tx, request, { entityType: 'learning_patterns', action: 'refreshed', metadata: out });
        return out;
      }),
  );
};
