import { z } from 'zod';

export const LOG_LEVEL_VALUES = ['debug', 'info', 'warning', 'error', 'critical'] as const;

export const runLogsQuerySchema = z.object({
  level: z
    .string()
    .max(100)
    .regex(/^(debug|info|warning|error|critical)(,(debug|info|warning|error|critical))*$/, {
      message: 'level is one or more of debug, info, warning, error, critical, separated by commas',
    })
    .optional()
    .describe('only these levels, e.g. `warning,error,critical`'),
  stepId: z.string().min(1).max(100).optional().describe("a step's id or its node id"),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('full-text search on the message (websearch syntax)'),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const logLineSchema = z.object({
  id: z.string(),
  at: z.string(),
  level: z.enum(LOG_LEVEL_VALUES),
  message: z.string(),
  context: z.record(z.string(), z.unknown()),
  nodeId: z.string().nullable(),
  stepId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  traceId: z.string().nullable(),
  spanId: z.string().nullable(),
  parentSpanId: z.string().nullable(),
  source: z.string(),
});
export type LogLineDto = z.infer<typeof logLineSchema>;

export const logPageSchema = z.object({ logs: z.array(logLineSchema), nextCursor: z.string().nullable() });

export const spanSchema = z.object({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().nullable(),
  /** Depth in the tree (0 for the root); spans are listed depth first. */
  depth: z.number().int(),
  name: z.string(),
  kind: z.string(),
  status: z.string(),
  statusMessage: z.string().nullable(),
  startTime: z.string(),
  endTime: z.string().nullable(),
  durationMs: z.number().nullable(),
  nodeId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  model: z.string().nullable(),
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  totalTokens: z.number().nullable(),
  cost: z.string().nullable().describe('USD, decimal string'),
  input: z.unknown(),
  output: z.unknown(),
  attributes: z.record(z.string(), z.unknown()),
  links: z.array(
    z.object({
      traceId: z.string(),
      spanId: z.string(),
      attributes: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  childCount: z.number().int(),
});
export type SpanDto = z.infer<typeof spanSchema>;

export const traceSchema = z.object({
  traceId: z.string(),
  runId: z.string().nullable(),
  rootSpanId: z.string(),
  spans: z.array(spanSchema),
});
export type TraceDto = z.infer<typeof traceSchema>;

export const traceIdParamsSchema = z.object({
  traceId: z.string().regex(/^[0-9a-f]{32}$/, { message: 'a trace id is 32 lower-case hex digits' }),
});

export const traceListQuerySchema = z.object({
  source: z.enum(['run', 'otlp']).optional(),
  name: z.string().trim().min(1).max(200).optional().describe('part of the name'),
  status: z.enum(['ok', 'error', 'unset', 'running']).optional(),
  model: z.string().trim().min(1).max(200).optional().describe('a model a span of the trace used'),
  minCost: z.coerce.number().min(0).max(1e9).optional(),
  minDurationMs: z.coerce.number().min(0).max(1e12).optional(),
  tag: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('a run tag (metadata.tags) or span attribute value'),
  q: z.string().trim().min(1).max(200).optional().describe('free text: name, id, model, error'),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const traceSummarySchema = z.object({
  traceId: z.string(),
  source: z.enum(['run', 'otlp']),
  runId: z.string().nullable(),
  name: z.string(),
  status: z.string(),
  serviceName: z.string().nullable(),
  startTime: z.string(),
  durationMs: z.number().nullable(),
  totalTokens: z.number().nullable(),
  cost: z.string().nullable(),
  models: z.array(z.string()),
});
export type TraceSummaryDto = z.infer<typeof traceSummarySchema>;
