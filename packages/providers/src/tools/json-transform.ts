/**
 * The `json_transform` tool: reshapes JSON with a JSONata expression (a maintained, sandboxed query and
 * transformation language: no access to the process, files or network). The expression is checked when
 * the tool is created; each evaluation is time-boxed and depth-limited (JSONata's `timeout` and `stack`
 * options), so a runaway expression fails instead of blocking the worker.
 */
import { AppError, LinearRegExpEngine, type ModelTool } from '@aiops/core';
import jsonata from 'jsonata';

export interface JsonTransformToolConfig {
  /** The JSONata expression, e.g. `orders[status = "open"].{ "id": id, "total": qty * price }`. */
  expression: string;
  /** The name the model sees; default `json_transform`. */
  name?: string;
  description?: string;
  /** Default and at most JSON_TRANSFORM_MAX_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default 200 nested evaluations. */
  maxDepth?: number;
}

/**
 * JSONata evaluates through promises that are already resolved, so an evaluation holds the event loop
 * (shared by the API and the worker) until it ends: its time box is kept short whatever the config says.
 */
export const JSON_TRANSFORM_MAX_TIMEOUT_MS = 250;

function invalid(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError(400, 'tool_invalid_input', message, { retryable: false, details });
}

function compile(expression: string, limits?: { timeout: number; stack: number }): jsonata.Expression {
  try {
    // Regex literals run on RE2JS (linear time): one backtracking match could not be time-boxed.
    return jsonata(expression, {
      ...limits,
      RegexEngine: LinearRegExpEngine as unknown as RegExpConstructor,
    });
  } catch (e) {
    const err = e as { message?: string; position?: number };
    throw invalid(`the JSONata expression does not parse: ${err.message}`, { position: err.position });
  }
}

/** Evaluates `expression` over `data` within the time and depth limits (JSONata's own guardrails). */
export async function runJsonTransform(config: JsonTransformToolConfig, data: unknown): Promise<unknown> {
  const timeout = Math.min(config.timeoutMs ?? JSON_TRANSFORM_MAX_TIMEOUT_MS, JSON_TRANSFORM_MAX_TIMEOUT_MS);
  const stack = config.maxDepth ?? 200;
  const expr = compile(config.expression, { timeout, stack });
  try {
    const result = await expr.evaluate(data);
    // plain JSON out: JSONata marks its result sequences with extra properties
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  } catch (e) {
    const err = e as { message?: string; code?: string };
    const why =
      err.code === 'D1011'
        ? `went deeper than ${stack} nested evaluations`
        : err.code === 'D1012'
          ? `took longer than ${timeout} ms`
          : `failed: ${err.message ?? String(e)}`;
    throw invalid(`the JSONata expression ${why}`, { jsonataCode: err.code });
  }
}

export function jsonTransformTool(config: JsonTransformToolConfig): ModelTool {
  compile(config.expression); // fail at configuration, not at the first call
  return {
    name: config.name ?? 'json_transform',
    description:
      config.description ??
      `Transforms the JSON given as "data" with the JSONata expression ${JSON.stringify(config.expression)}.`,
    inputSchema: {
      type: 'object',
      properties: { data: { description: 'The JSON value to transform' } },
      required: ['data'],
    },
    execute: async (input) => runJsonTransform(config, (input as { data?: unknown } | null)?.data ?? null),
  };
}
