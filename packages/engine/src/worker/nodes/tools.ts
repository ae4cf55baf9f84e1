import type { ToolNode } from '@aiops/contracts';
import { AppError, type ModelTool, renderValue } from '@aiops/core';
import { connectMcpServer, createTool, isToolKind, mcpServerConfig } from '@aiops/providers';
import type { ClaimedStep } from '../../sql/claim-steps.ts';
import type { NodeResult, StepContext } from './types.ts';

/**
 * A tool node: runs a built-in tool on its rendered input, without a model. The outbound policy is the
 * organization's (`ctx.network`); the node's config is the tool's own settings only (see `createTool`).
 */
export async function runTool(
  step: ClaimedStep,
  node: ToolNode,
  ctx: StepContext,
  context: Record<string, unknown>,
): Promise<NodeResult> {
  const policy = await ctx.network(step.organizationId);
  const tool = createTool(node.tool, node.config, policy);
  const input = node.input === undefined ? {} : renderValue(node.input, context);
  const output = await (ctx.observer ? ctx.observer.tool(tool) : tool).execute(input, ctx.signal);
  return { kind: 'completed', input: { tool: node.tool, input }, output };
}

/** The tools an agent offers its model, and how to release them (MCP connections) after the call. */
export async function agentTools(
  names: readonly string[] | undefined,
  configs: Record<string, unknown> | undefined,
  ctx: StepContext,
  organizationId: string,
): Promise<{ tools: ModelTool[]; close: () => Promise<void> }> {
  if (!names?.length) return { tools: [], close: async () => {} };
  const policy = await ctx.network(organizationId);
  const tools: ModelTool[] = [];
  const closers: (() => Promise<void>)[] = [];
  try {
    for (const name of names) {
      const config = (configs?.[name] ?? {}) as Record<string, unknown>;
      if (name === 'mcp') {
        const servers = Array.isArray(config.servers) ? (config.servers as Record<string, unknown>[]) : [];
        for (const server of servers.map(mcpServerConfig)) {
          if (server.transport === 'stdio' && !ctx.mcpStdioCommands.includes(server.command)) {
            throw new AppError(
              403,
              'mcp_command_not_allowed',
              `MCP server "${server.name}" runs "${server.command}", which the operator has not allowed (AIOPS_MCP_STDIO_COMMANDS)`,
              {
                retryable: false,
              },
            );
          }
          const conn = await connectMcpServer(server, { policy });
          closers.push(() => conn.close());
          tools.push(...conn.tools);
        }
      } else if (isToolKind(name)) {
        tools.push(createTool(name, config, policy));
      } else {
        throw new AppError(
          422,
          'unknown_tool',
          `Unknown tool "${name}": use http_request, json_transform or mcp`,
          { retryable: false },
        );
      }
    }
  } catch (e) {
    await Promise.all(closers.map((c) => c().catch(() => {})));
    throw e;
  }
  return { tools, close: async () => void (await Promise.all(closers.map((c) => c().catch(() => {})))) };
}
