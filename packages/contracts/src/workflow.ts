import { z } from 'zod';
import { promotionPolicySchema } from './datasets.ts';
import { versionNumber } from './numbers.ts';

/**
 * The workflow definition format of API.md: nodes and connections with optional conditions, variables,
 * an input JSON Schema. This schema checks shape; `validateDefinition` in packages/core checks meaning
 * (unknown node types, dangling connections, cycles, unreachable nodes, templates, conditions).
 */

/** Node ids appear in templates and conditions (`nodes.<id>.output`), so they are identifiers. */
export const nodeIdSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
    'must be an identifier: a letter or _, then letters, digits or _ (max 64)',
  );

export const jsonSchemaObject = z.record(z.string(), z.unknown()).meta({ description: 'A JSON Schema' });

export const retryPolicySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(20).default(1).describe('attempts in all, including the first'),
    backoff: z.enum(['exponential', 'fixed']).default('exponential'),
    initialDelayMs: z.number().int().min(0).max(3_600_000).default(500),
    maxDelayMs: z.number().int().min(0).max(86_400_000).default(60_000),
    jitter: z.boolean().default(true).describe('randomize each delay between half and all of it'),
  })
  .meta({ id: 'RetryPolicy' });
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

export const simulateSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    failTimes: z.number().int().min(0).max(100).optional(),
    failWith: z.enum(['retryable', 'fatal']).optional(),
    output: z.unknown().optional(),
    when: z
      .array(
        z.object({
          contains: z.array(z.string().min(1).max(200)).min(1).max(50),
          output: z.unknown(),
        }),
      )
      .max(20)
      .optional()
      .describe(
        'answers chosen by content: the first case whose words the rendered prompt (not the system prompt) contains, any of them, ignoring case, answers with its output; otherwise `output`',
      ),
  })
  .meta({ id: 'SimulateSettings' });

export const modelIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*:.+$/, 'must be provider:model, e.g. openai:gpt-4o-mini or simulator:echo');

/**
 * An agent's memory and response cache. `threadKey` (a template, e.g. `{{input.customerId}}`) turns on
 * short-term memory: the last `maxMessages` messages of that thread go before the prompt, and the
 * exchange is appended after the call. `semantic` turns on long-term memory: the `topK` most similar past
 * exchanges (embedded by `embeddingModel`) are recalled into the system prompt. `cacheTtlSeconds` opts in
 * to the response cache.
 */
const MEMORY_ALIASES: Record<string, string> = {
  max_messages: 'maxMessages',
  thread_key: 'threadKey',
  cache_ttl_seconds: 'cacheTtlSeconds',
};

export const memoryConfigSchema = z.preprocess(
  // seed 000 writes memory_config in snake_case ({type, max_messages})
  (v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [MEMORY_ALIASES[k] ?? k, x]))
      : v,
  z
    .object({
      type: z
        .enum(['short_term', 'long_term'])
        .optional()
        .describe('seed 000: short_term = a message thread, long_term = semantic recall'),
      threadKey: z
        .string()
        .min(1)
        .max(1000)
        .optional()
        .describe('default for short_term: one thread per agent'),
      maxMessages: z.number().int().min(1).max(200).optional().describe('default 10'),
      semantic: z
        .object({
          embeddingModel: modelIdSchema.describe('e.g. openai:text-embedding-3-small or simulator:embed'),
          topK: z.number().int().min(1).max(50).optional().describe('default 3'),
          namespace: z
            .string()
            .min(1)
            .max(200)
            .optional()
            .describe('default: the thread key, else the agent'),
          minSimilarity: z.number().min(-1).max(1).optional().describe('cosine similarity; default 0'),
        })
        .strict()
        .optional(),
      cacheTtlSeconds: z.number().int().min(1).max(2_592_000).optional(),
      glossary: z
        .object({
          enabled: z.boolean(),
          tokenBudget: z.number().int().min(10).max(20_000).optional().describe('default 300'),
        })
        .strict()
        .optional()
        .describe(
          "terms of the organization's public dictionary found in the prompt go into the system prompt",
        ),
    })
    .strict()
    .refine((m) => m.type !== 'long_term' || m.semantic, {
      message: 'long_term memory needs semantic.embeddingModel (e.g. openai:text-embedding-3-small)',
      path: ['semantic'],
    })
    .meta({ id: 'MemoryConfig' }),
);
export type MemoryConfig = z.infer<typeof memoryConfigSchema>;

/** An agent defined inside a node (API.md), or the model part of an org-level agent. */
export const inlineAgentSchema = z
  .object({
    model: modelIdSchema,
    system: z.string().max(100_000).optional(),
    prompt: z.string().max(100_000),
    output: jsonSchemaObject.optional().describe('JSON Schema of a structured answer'),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().min(0).max(1).optional(),
    maxTokens: z.number().int().min(1).max(1_000_000).optional(),
    integrationId: z.uuid().optional(),
    simulate: simulateSchema.optional(),
    /** Tools the model may call: `http_request`, `json_transform`, `mcp` (tools of MCP servers). */
    tools: z.array(z.string().min(1).max(100)).max(50).optional(),
    /** Per-tool configuration, by tool name (`mcp: {servers: [...]}`). */
    toolConfigs: z.record(z.string(), z.unknown()).optional(),
    /** Model ↔ tool round trips at most (default 5). */
    maxSteps: z.number().int().min(1).max(50).optional(),
    /** USD a single model call may cost at most (seed 001's cost_limit_per_request). */
    costLimitPerRequest: z.number().min(0).optional(),
    /** Short-term and semantic memory, response cache. */
    memory: memoryConfigSchema.optional(),
  })
  .meta({ id: 'InlineAgent' });
export type InlineAgent = z.infer<typeof inlineAgentSchema>;

const positionSchema = z.object({ x: z.number(), y: z.number() });

const nodeBase = {
  id: nodeIdSchema,
  name: z.string().max(255).optional(),
  description: z.string().max(10_000).optional(),
  retry: retryPolicySchema.partial().optional(),
  timeoutMs: z.number().int().min(1).max(86_400_000).optional(),
  position: positionSchema.optional(),
};

export const agentNodeSchema = z
  .object({
    ...nodeBase,
    type: z.literal('agent'),
    agent: inlineAgentSchema.optional(),
    agentId: z.uuid().optional(),
    agentVersion: versionNumber().optional(),
    /** Extra template variables for the agent's prompt, rendered first: `{{vars.<name>}}`. */
    vars: z.record(z.string(), z.unknown()).optional(),
    /** Fan-out: a template that yields a list; the agent runs once per item (`{{item}}`, `{{index}}`). */
    forEach: z.string().max(10_000).optional(),
    /** Items processed at once in a fan-out (default 10). */
    parallelism: z.number().int().min(1).max(100).optional(),
    /** In a fan-out, a failed item does not fail the node: errors are collected beside the results. */
    continueOnError: z.boolean().optional(),
  })
  .meta({ id: 'AgentNode' });

export const approvalNodeSchema = z
  .object({
    ...nodeBase,
    type: z.literal('approval'),
    /** What the approver is asked (a template). */
    message: z.string().max(10_000).optional(),
    /** With `timeoutMs`: the decision taken when nobody decides in time (default rejected). */
    defaultDecision: z.enum(['approved', 'rejected']).optional(),
    /** fail (default): a rejection fails the run; continue: the node completes with approved = false. */
    onReject: z.enum(['fail', 'continue']).optional(),
  })
  .meta({ id: 'ApprovalNode' });

export const subworkflowNodeSchema = z
  .object({
    ...nodeBase,
    type: z.literal('subworkflow'),
    workflowId: z.uuid(),
    /** Pin a version of the child workflow (default: its current version when the step starts). */
    version: versionNumber().optional(),
    /** The child run's input: any JSON, strings are templates. */
    input: z.unknown().optional(),
  })
  .meta({ id: 'SubworkflowNode' });

export const toolNodeSchema = z
  .object({
    ...nodeBase,
    type: z.literal('tool'),
    /** A built-in tool: `http_request` or `json_transform`. */
    tool: z.enum(['http_request', 'json_transform']),
    /** The tool's configuration (for http_request: method, url, headers, body templates, timeoutMs, …). */
    config: z.record(z.string(), z.unknown()),
    /** The tool's input: any JSON, strings are templates (`{{nodes.x.output}}`). */
    input: z.unknown().optional(),
  })
  .meta({ id: 'ToolNode' });

export const delayNodeSchema = z
  .object({
    ...nodeBase,
    type: z.literal('delay'),
    durationMs: z
      .number()
      .int()
      .min(0)
      .max(366 * 86_400_000)
      .optional(),
    /** A time to wait until: an ISO 8601 string, or a template that yields one. */
    until: z.string().max(1000).optional(),
  })
  .meta({ id: 'DelayNode' });

export const outputNodeSchema = z
  .object({
    ...nodeBase,
    type: z.literal('output'),
    value: z.unknown().describe('any JSON; strings are templates'),
  })
  .meta({ id: 'OutputNode' });

/** A host a code step's fetch may reach: a host name, or `*.` and a domain for its subdomains. */
export const codeHostSchema = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a lower-case host name such as api.example.com, or *.example.com for its subdomains',
  );

/** User code run in the sandbox (issue 21), by a code node or a code agent. */
export const codeSourceFields = {
  language: z.enum(['javascript', 'typescript']).default('javascript'),
  /** The body of an async function of `input`, `nodes` and `variables`; what it returns is the output. */
  code: z.string().min(1, 'write some code, e.g. return input').max(100_000),
  /** Off by default; when set (and the tier allows network) the code's fetch may reach these hosts only. */
  network: z
    .object({ allowedHosts: z.array(codeHostSchema).min(1).max(50) })
    .strict()
    .optional(),
};

export const codeNodeSchema = z
  .object({ ...nodeBase, type: z.literal('code'), ...codeSourceFields })
  .meta({ id: 'CodeNode' });

export const NODE_TYPES = ['agent', 'tool', 'output', 'approval', 'subworkflow', 'delay', 'code'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

export const workflowNodeSchema = z.discriminatedUnion('type', [
  agentNodeSchema,
  toolNodeSchema,
  outputNodeSchema,
  approvalNodeSchema,
  subworkflowNodeSchema,
  delayNodeSchema,
  codeNodeSchema,
]);
export type WorkflowNode = z.infer<typeof workflowNodeSchema>;
export type AgentNode = z.infer<typeof agentNodeSchema>;
export type OutputNode = z.infer<typeof outputNodeSchema>;
export type ApprovalNode = z.infer<typeof approvalNodeSchema>;
export type SubworkflowNode = z.infer<typeof subworkflowNodeSchema>;
export type DelayNode = z.infer<typeof delayNodeSchema>;
export type ToolNode = z.infer<typeof toolNodeSchema>;
export type CodeNode = z.infer<typeof codeNodeSchema>;

export const connectionSchema = z
  .object({
    from: nodeIdSchema,
    to: nodeIdSchema,
    condition: z.string().max(10_000).optional().describe('CEL expression; false skips the target branch'),
  })
  .meta({ id: 'Connection' });
export type Connection = z.infer<typeof connectionSchema>;

export const workflowSettingsSchema = z
  .object({
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400_000)
      .optional()
      .describe('whole-run timeout'),
    retry: retryPolicySchema.partial().optional().describe('default retry policy of every node'),
    /** USD this run may spend on model calls; a call that could exceed it is not made (budget_exceeded). */
    budgetUsd: z.number().min(0).optional(),
    /** Runs of this workflow active at once; more wait their turn (queue) or are refused (reject, 429). */
    maxConcurrentRuns: z.number().int().min(1).max(100_000).optional(),
    concurrencyPolicy: z.enum(['queue', 'reject']).optional(),
    /** Runs whose input gives the same key run one at a time, e.g. `{{input.customerId}}`. */
    concurrencyKey: z.string().max(1000).optional(),
  })
  .meta({ id: 'WorkflowSettings' });

const definitionFields = {
  name: z.string().min(1).max(255),
  description: z.string().max(10_000).optional(),
  input: jsonSchemaObject.optional().describe('JSON Schema of the run input'),
  variables: z.record(z.string(), z.unknown()).optional(),
  connections: z.array(connectionSchema).max(20_000).default([]),
  settings: workflowSettingsSchema.optional(),
  /** The promotion gate: a version becomes current only when an experiment on it clears this bar. */
  promotion: promotionPolicySchema.optional(),
};

/** The definition format (for documentation and types). */
export const workflowDefinitionSchema = z
  .object({ ...definitionFields, nodes: z.array(workflowNodeSchema).min(1).max(5000) })
  .meta({ id: 'WorkflowDefinition' });
export type WorkflowDefinition = z.infer<typeof workflowDefinitionSchema>;

/**
 * The same with nodes left unchecked: core `parseDefinition` checks each node itself so that problems
 * are reported by node id ("node classify: agent.model …") rather than by array index.
 */
export const definitionEnvelopeSchema = z.object({
  ...definitionFields,
  nodes: z.array(z.unknown()).min(1).max(5000),
});

/** One problem with a definition: where (node id and field path) and what to fix. */
export const definitionIssueSchema = z.object({
  nodeId: z.string().optional(),
  path: z.string(),
  message: z.string(),
});
export type DefinitionIssue = z.infer<typeof definitionIssueSchema>;
