import { z } from 'zod';
import { codeSourceFields } from './workflow.ts';

/** POST /code/test: run code once with sample input, with the organization's tier limits. */
export const codeTestBodySchema = z
  .object({
    ...codeSourceFields,
    input: z.unknown().optional().describe('the sample `input` (default {})'),
    nodes: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('sample upstream outputs by node id: { "fetch": { "output": … } }'),
    variables: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'CodeTest' });

export const codeTestResponseSchema = z
  .object({
    ok: z.boolean(),
    output: z.unknown().optional(),
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        retryable: z.boolean(),
        details: z.record(z.string(), z.unknown()).optional(),
      })
      .optional(),
    logs: z.array(z.object({ level: z.string(), message: z.string() })),
    durationMs: z.number(),
    cpuMs: z.number(),
    memoryBytes: z.number(),
    limits: z.object({ memoryMb: z.number(), cpuMs: z.number(), wallMs: z.number(), network: z.boolean() }),
  })
  .meta({ id: 'CodeTestResult' });
