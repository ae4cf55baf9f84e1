import { testBackend } from '@aiops/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/** The MCP server at /mcp through the official MCP client: active workflows as tools, runs as resources. */
let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
});
afterAll(() => s?.close());

const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

async function connect(apiKey: string): Promise<Client> {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
    }),
  );
  return client;
}

async function key(scopes: string[]): Promise<string> {
  const r = await api('POST', '/api-keys', { name: `mcp-${scopes.join('-')}`, scopes });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.key as string;
}

describe(`the MCP server on ${testBackend()}`, () => {
  it('lists active workflows as tools, runs one with its input, and serves the run as a resource', async () => {
    const input = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const greet = await api('POST', '/workflows', {
      name: 'Greet someone',
      status: 'active',
      definition: {
        name: 'Greet someone',
        input,
        nodes: [{ id: 'out', type: 'output', value: { greeting: 'Hello, {{input.name}}!' } }],
      },
    });
    expect(greet.status, JSON.stringify(greet.body)).toBe(201);
    const draft = await api('POST', '/workflows', {
      name: 'Draft one',
      definition: { name: 'Draft one', nodes: [{ id: 'out', type: 'output', value: 1 }] },
    });
    expect(draft.status).toBe(201);

    const client = await connect(await key(['workflow:read', 'workflow:execute', 'run:read']));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['Greet_someone']);
    expect(tools[0]!.inputSchema).toEqual(input);
    expect(tools[0]!.description).toContain(greet.body.id);

    const result = await client.callTool({ name: 'Greet_someone', arguments: { name: 'Ada' } });
    expect(result.isError).toBe(false);
    const body = result.structuredContent as { runId: string; status: string; output: unknown };
    expect(body.status).toBe('completed');
    expect(body.output).toEqual({ greeting: 'Hello, Ada!' });
    expect(body.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(JSON.parse((result.content as { text: string }[])[0]!.text)).toEqual(body);

    const { resources } = await client.listResources();
    expect(resources[0]).toMatchObject({
      uri: `aiops://runs/${body.runId}`,
      title: 'Greet someone: completed',
    });
    const read = await client.readResource({ uri: `aiops://runs/${body.runId}` });
    const run = JSON.parse((read.contents[0] as { text: string }).text);
    expect(run).toMatchObject({ id: body.runId, status: 'completed', output: { greeting: 'Hello, Ada!' } });

    const missing = await client.callTool({ name: 'Draft_one', arguments: {} });
    expect(missing.isError).toBe(true);
    await client.close();
  });

  it('needs an API key, and workflow:execute to call a tool', async () => {
    const anonymous = await fetch(`${s.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(anonymous.status).toBe(401);
    const readOnly = await connect(await key(['workflow:read']));
    expect((await readOnly.listTools()).tools.length).toBe(1);
    await expect(readOnly.callTool({ name: 'Greet_someone', arguments: { name: 'x' } })).rejects.toThrow(
      /workflow:execute/,
    );
    await readOnly.close();
  });
});
