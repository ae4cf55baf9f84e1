/**
 * The tool registry: built-in tool kinds by name, each made from its per-agent config into a `ModelTool`.
 * MCP servers give their own tools (`connectMcpServer`), since they need a live connection.
 */
import type { ModelTool } from '@aiops/core';
import { type HttpRequestToolConfig, httpRequestTool } from './http-request.ts';
import { type JsonTransformToolConfig, jsonTransformTool } from './json-transform.ts';

export interface ToolConfigs {
  http_request: HttpRequestToolConfig;
  json_transform: JsonTransformToolConfig;
}
export type ToolKind = keyof ToolConfigs;

const FACTORIES: { [K in ToolKind]: (config: ToolConfigs[K]) => ModelTool } = {
  http_request: httpRequestTool,
  json_transform: jsonTransformTool,
};

export const TOOL_KINDS = Object.keys(FACTORIES) as ToolKind[];

export function isToolKind(name: string): name is ToolKind {
  return Object.hasOwn(FACTORIES, name);
}

/**
 * `createTool('http_request', { url: 'https://api.example.com/orders/{{id}}' })`. The organization's network
 * setting (`allowPrivateNetworks`) belongs in the config of `http_request` tools.
 */
export function createTool<K extends ToolKind>(name: K, config: ToolConfigs[K]): ModelTool {
  const factory = FACTORIES[name] as ((config: ToolConfigs[K]) => ModelTool) | undefined;
  if (!factory) throw new Error(`unknown tool "${String(name)}" (known: ${TOOL_KINDS.join(', ')})`);
  return factory(config);
}
