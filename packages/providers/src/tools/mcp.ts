/**
 * Tools from MCP servers, through the official MCP TypeScript SDK's client, adapted to the port's
 * `ModelTool`. Two transports: stdio (the server is a local process we start) and streamable HTTP.
 *
 * - Tool names are prefixed with the server's name (`inventory__check_stock`), so two servers' tools
 *   cannot collide, and made to fit what every provider accepts (`[A-Za-z0-9_-]`, at most 64 characters).
 * - A stdio server gets only the SDK's safe default environment plus what its config names, never this
 *   process's environment (which holds our secrets).
 * - An HTTP server's every connection obeys the server's outbound policy (resolved, judged, pinned: see
 *   ../net/); a config carries only transport, name, url and headers (`mcpServerConfig`).
 * - Errors quote the server's own text only as a short, scrubbed excerpt.
 * - A tool result flagged `isError` becomes an error the model is told about.
 */
import { AppError, type ModelTool } from '@aiops/core';
import { excerpt } from '../errors.ts';
import { type OutboundPolicy, PUBLIC_ONLY } from '../net/address.ts';
import { guardedFetch } from '../net/fetch.ts';
import { blockedCause, checkedAddress } from '../net/resolve.ts';

export type McpServerConfig =
  | {
      transport: 'stdio';
      /** Prefix of this server's tool names. */
      name: string;
      command: string;
      args?: string[];
      env?: Record<string, string>;
      cwd?: string;
    }
  | {
      transport: 'http';
      name: string;
      url: string;
      headers?: Record<string, string>;
    };

const MCP_FIELDS = {
  stdio: ['transport', 'name', 'command', 'args', 'env', 'cwd'],
  http: ['transport', 'name', 'url', 'headers'],
} as const;

/** Keeps only a server config's own fields (policy fields and the like in stored JSON are dropped). */
export function mcpServerConfig(raw: Record<string, unknown>): McpServerConfig {
  const fields = raw.transport === 'stdio' ? MCP_FIELDS.stdio : MCP_FIELDS.http;
  const out: Record<string, unknown> = {};
  for (const k of fields) if (raw[k] !== undefined) out[k] = raw[k];
  return out as unknown as McpServerConfig;
}

export interface McpConnectOptions {
  /** Only these tools (by the server's names); all by default. */
  include?: readonly string[];
  /** Per tool call; default 60 s. */
  timeoutMs?: number;
  /** The organization's outbound policy for HTTP servers (default: public addresses only). */
  policy?: OutboundPolicy;
}

export interface McpTools {
  tools: ModelTool[];
  close(): Promise<void>;
}

/** `server__tool`, restricted to the characters and length every provider accepts. */
export function mcpToolName(server: string, tool: string): string {
  return `${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

function unavailable(message: string, retryable = true): AppError {
  return new AppError(502, 'tool_mcp_unavailable', message, { retryable });
}

type CallResult = { content?: unknown; structuredContent?: unknown; isError?: boolean; toolResult?: unknown };

function resultValue(result: CallResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  if ('toolResult' in result) return result.toolResult;
  const content = Array.isArray(result.content) ? (result.content as { type: string; text?: string }[]) : [];
  if (content.every((c) => c.type === 'text')) return content.map((c) => c.text ?? '').join('\n');
  return content;
}

function errorText(result: CallResult): string {
  const content = Array.isArray(result.content) ? (result.content as { type: string; text?: string }[]) : [];
  return excerpt(content.map((c) => c.text ?? '').join('\n')) || 'the MCP tool reported an error';
}

/** Connects to an MCP server and returns its tools as `ModelTool`s; `close()` ends the session (and process). */
export async function connectMcpServer(
  config: McpServerConfig,
  options: McpConnectOptions = {},
): Promise<McpTools> {
  // loaded on first use: most processes never talk to an MCP server
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const client = new Client({ name: 'aiops-studio', version: '0.1.0' });
  if (config.transport === 'stdio') {
    const { getDefaultEnvironment, StdioClientTransport } = await import(
      '@modelcontextprotocol/sdk/client/stdio.js'
    );
    const transport = new StdioClientTransport({
      command: config.command,
      args: config.args,
      env: { ...getDefaultEnvironment(), ...config.env },
      cwd: config.cwd,
      stderr: 'pipe',
    });
    await client.connect(transport).catch((e: unknown) => {
      throw unavailable(
        `cannot start MCP server ${config.name} (${config.command}): ${(e as Error).message}`,
        false,
      );
    });
  } else {
    const policy = options.policy ?? PUBLIC_ONLY;
    const url = new URL(config.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw unavailable(`MCP server ${config.name}: only http and https URLs are allowed`, false);
    await checkedAddress(url.hostname, policy);
    const { StreamableHTTPClientTransport } = await import(
      '@modelcontextprotocol/sdk/client/streamableHttp.js'
    );
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: config.headers },
      fetch: guardedFetch(policy),
    });
    await client.connect(transport).catch((e: unknown) => {
      const blocked = blockedCause(e);
      if (blocked) throw blocked;
      throw unavailable(
        `cannot connect to MCP server ${config.name} at ${url.origin}: ${excerpt((e as Error).message)}`,
      );
    });
  }

  const listed = await client.listTools();
  const timeout = options.timeoutMs ?? 60_000;
  const tools: ModelTool[] = listed.tools
    .filter((t) => !options.include || options.include.includes(t.name))
    .map((t) => ({
      name: mcpToolName(config.name, t.name),
      description: t.description ?? t.title ?? t.name,
      inputSchema: t.inputSchema as Record<string, unknown>,
      async execute(input, signal) {
        const result = (await client
          .callTool({ name: t.name, arguments: (input ?? {}) as Record<string, unknown> }, undefined, {
            signal,
            timeout,
          })
          .catch((e: unknown) => {
            if (signal.aborted) throw e;
            const blocked = blockedCause(e);
            if (blocked) throw blocked;
            throw unavailable(
              `MCP tool ${t.name} on ${config.name} failed: ${excerpt((e as Error).message)}`,
            );
          })) as CallResult;
        if (result.isError)
          throw new AppError(502, 'tool_failed', errorText(result), {
            retryable: false,
            details: { tool: t.name },
          });
        return resultValue(result);
      },
    }));
  return { tools, close: () => client.close() };
}
