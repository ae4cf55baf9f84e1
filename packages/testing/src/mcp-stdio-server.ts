/**
 * A real MCP server over stdio, built with the official SDK, for tests that start one as a child process:
 * `node --import tsx packages/testing/src/mcp-stdio-server.ts`. It offers `add` (sums two numbers),
 * `fail` (always reports an error) and `env` (tells whether a variable reached it).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'calculator', version: '1.0.0' });
server.registerTool(
  'add',
  { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
  async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
);
server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, async () => ({
  isError: true,
  content: [{ type: 'text', text: 'the calculator is broken' }],
}));
server.registerTool(
  'env',
  { description: 'Whether an environment variable is set', inputSchema: { name: z.string() } },
  async ({ name }) => ({
    content: [{ type: 'text', text: process.env[name] === undefined ? 'unset' : 'set' }],
  }),
);
await server.connect(new StdioServerTransport());
