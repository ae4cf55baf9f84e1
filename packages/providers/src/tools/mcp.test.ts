import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@aiops/core';
import { type FakeProviderServer, MCP_STDIO_SERVER_SCRIPT, startFakeOpenAI } from '@aiops/testing';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createModelPort } from '../model-port.ts';
import { outboundPolicy, PUBLIC_ONLY } from '../net/address.ts';
import { connectMcpServer, type McpTools, mcpServerConfig } from './mcp.ts';

const PRIVATE_OK = outboundPolicy({ allowPrivateNetworks: true });

/**
 * A real MCP server over streamable HTTP, built with the official SDK, on 127.0.0.1; stateless, as in the
 * SDK's example: each HTTP request gets a fresh server and transport.
 */
async function startInventoryServer() {
  const asked: string[] = [];
  const build = () => {
    const mcp = new McpServer({ name: 'inventory', version: '1.0.0' });
    mcp.registerTool(
      'check_stock',
      { description: 'How many units of a SKU are in stock', inputSchema: { sku: z.string() } },
      async ({ sku }) => {
        asked.push(sku);
        return {
          content: [{ type: 'text', text: `${sku}: 7 in stock` }],
          structuredContent: { sku, inStock: 7 },
        };
      },
    );
    mcp.registerTool(
      'reorder',
      { description: 'Reorders a SKU', inputSchema: { sku: z.string() } },
      async () => ({
        content: [{ type: 'text', text: 'ok' }],
      }),
    );
    return mcp;
  };
  let requests = 0;
  const http: Server = createServer((req, res) => {
    requests += 1;
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const mcp = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    void mcp.connect(transport).then(() => transport.handleRequest(req, res));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return {
    url,
    asked,
    requests: () => requests,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

let inventory: Awaited<ReturnType<typeof startInventoryServer>>;
let model: FakeProviderServer;
beforeAll(async () => {
  inventory = await startInventoryServer();
  model = await startFakeOpenAI('openai');
});
afterAll(async () => {
  await inventory.close();
  await model.close();
});

describe('MCP tools over streamable HTTP', () => {
  it('lets a model call a tool of a real MCP server in a tool loop', async () => {
    const mcp = await connectMcpServer(
      { transport: 'http', name: 'inventory', url: inventory.url },
      { policy: PRIVATE_OK },
    );
    try {
      expect(mcp.tools.map((t) => t.name).sort()).toEqual(['inventory__check_stock', 'inventory__reorder']);
      const port = createModelPort({
        resolveIntegration: (_o, _i, provider) => ({
          provider,
          apiKey: 'sk-mcp-test-0000',
          baseUrl: model.baseUrl,
          config: {},
          network: PRIVATE_OK,
        }),
      });
      model.reply(
        {
          kind: 'tool-calls',
          calls: [{ name: 'inventory__check_stock', input: { sku: 'SKU-42' } }],
          usage: { input: 80, output: 12 },
        },
        { kind: 'text', text: 'SKU-42 has 7 units.', usage: { input: 120, output: 8 } },
      );
      const r = await port.call({
        model: 'openai:gpt-4o-mini',
        prompt: 'How many SKU-42 are left?',
        tools: mcp.tools,
        attempt: 1,
        idempotencyKey: 'run:step:1',
        organizationId: '00000000-0000-0000-0000-0000000000ee',
        signal: new AbortController().signal,
      });
      expect(inventory.asked).toEqual(['SKU-42']);
      expect(r.text).toBe('SKU-42 has 7 units.');
      expect(r.toolCalls[0]).toMatchObject({
        name: 'inventory__check_stock',
        output: { sku: 'SKU-42', inStock: 7 },
      });
      const declared = JSON.stringify(model.exchanges.at(-2)!.request.body.tools);
      expect(declared).toContain('inventory__check_stock');
      expect(declared).toContain('"sku"');
      expect(JSON.stringify(model.exchanges.at(-1)!.request.body)).toContain('inStock');
    } finally {
      await mcp.close();
    }
  });

  it('offers only the included tools', async () => {
    const mcp = await connectMcpServer(
      { transport: 'http', name: 'inventory', url: inventory.url },
      { include: ['reorder'], policy: PRIVATE_OK },
    );
    expect(mcp.tools.map((t) => t.name)).toEqual(['inventory__reorder']);
    await mcp.close();
  });

  it('refuses an MCP server on an internal address unless the organization allows it', async () => {
    const e = await connectMcpServer({ transport: 'http', name: 'inventory', url: inventory.url }).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('address_blocked');
  });

  it('ignores policy fields in a stored server config, over every notation of loopback (issue 11)', async () => {
    const before = inventory.requests();
    const port = new URL(inventory.url).port;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '127.1', 'localhost.']) {
      const stored = {
        transport: 'http',
        name: 'inventory',
        url: `http://${host}:${port}/mcp`,
        allowPrivateNetworks: true,
        allowCategories: ['loopback'],
      };
      expect(mcpServerConfig(stored)).toEqual({ transport: 'http', name: 'inventory', url: stored.url });
      const e = await connectMcpServer(mcpServerConfig(stored), { policy: PUBLIC_ONLY }).catch((x) => x);
      expect((e as AppError).code, host).toBe('address_blocked');
    }
    expect(inventory.requests()).toBe(before);
  });
});

describe('MCP tools over stdio', () => {
  let mcp: McpTools;
  beforeAll(async () => {
    process.env.AIOPS_TEST_PARENT_SECRET = 'do-not-leak';
    mcp = await connectMcpServer({
      transport: 'stdio',
      name: 'calc',
      command: process.execPath,
      args: ['--import', 'tsx', MCP_STDIO_SERVER_SCRIPT],
      env: { CALC_VISIBLE: '1' },
    });
  }, 30_000);
  afterAll(async () => {
    delete process.env.AIOPS_TEST_PARENT_SECRET;
    await mcp.close();
  });
  const tool = (name: string) => mcp.tools.find((t) => t.name === `calc__${name}`)!;
  const signal = () => new AbortController().signal;

  it('calls a tool of a server process it started', async () => {
    expect(await tool('add').execute({ a: 2, b: 40 }, signal())).toBe('42');
  });

  it('turns a tool result flagged isError into a non-retryable error', async () => {
    const e = await tool('fail')
      .execute({}, signal())
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('tool_failed');
    expect((e as AppError).message).toContain('the calculator is broken');
  });

  it("gives the server only its configured environment, not this process's secrets", async () => {
    expect(await tool('env').execute({ name: 'CALC_VISIBLE' }, signal())).toBe('set');
    expect(await tool('env').execute({ name: 'AIOPS_TEST_PARENT_SECRET' }, signal())).toBe('unset');
  });
});
