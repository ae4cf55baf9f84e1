/**
 * The tool registry: built-in tool kinds by name, each made from its per-agent config into a `ModelTool`.
 * MCP servers give their own tools (`connectMcpServer`), since they need a live connection.
 *
 * The outbound policy is an argument of its own, from the server: a tool's config cannot carry one (an
 * `http_request` config keeps only the tool's own fields, see `httpRequestConfig`).
 */
import type { ModelTool } from '@aiops/core';
import { type OutboundPolicy, PUBLIC_ONLY } from '../net/address.ts';
import { type HttpRequestToolConfig, httpRequestConfig, httpRequestTool } from './http-request.ts';
import { type JsonTransformToolConfig, jsonTransformTool } from './json-transform.ts';

export interface ToolConfigs {
  http_request: HttpRequestToolConfig;
  json_transform: JsonTransformToolConfig;
}
export type ToolKind = keyof ToolConfigs;

const FACTORIES: { [K in ToolKind]: (config: Record<string, unknown>, policy: OutboundPolicy) => ModelTool } =
  {
    http_request: (config, policy) => httpRequestTool(httpRequestConfig(config), policy),
    json_transform: (config) => jsonTransformTool(config as unknown as JsonTransformToolConfig),
  };

export const TOOL_KINDS = Object.keys(FACTORIES) as ToolKind[];

export function isToolKind(name: string): name is ToolKind {
  return Object.hasOwn(FACTORIES, name);
}

/**
 * `createTool('http_request', { url: 'https://api.example.com/orders/{{id}}' }, policy)`, where `policy` is
 * the organization's outbound policy (`outboundPolicy`; default: public addresses only).
 */
export function createTool<K extends ToolKind>(
  name: K,
  config: ToolConfigs[K] | Record<string, unknown>,
  policy: OutboundPolicy = PUBLIC_ONLY,
): ModelTool {
  const factory = FACTORIES[name] as
    | ((c: Record<string, unknown>, p: OutboundPolicy) => ModelTool)
    | undefined;
  if (!factory) throw new Error(`unknown tool "${String(name)}" (known: ${TOOL_KINDS.join(', ')})`);
  return factory(config as Record<string, unknown>, policy);
}
