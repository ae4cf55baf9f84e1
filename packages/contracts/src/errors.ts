import { z } from 'zod';

/** The one error body every API failure answers with (API.md). */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('snake_case code a client can switch on'),
      message: z.string().describe('what went wrong and what to fix'),
      details: z.record(z.string(), z.unknown()).optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'ErrorBody' });

export type ErrorBody = z.infer<typeof errorBodySchema>;

/** One invalid field of a request, with its path inside the body, query, params or headers. */
export interface FieldIssue {
  path: string;
  message: string;
}
