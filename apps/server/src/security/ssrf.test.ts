import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXCERPT_CHARS } from '@aiops/providers';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';

/**
 * Issue 11, findings 1 and 4: the outbound-address policy is the organization's setting and the operator's
 * configuration alone. Every config path (tool node, agent toolConfigs, MCP HTTP server, integration base
 * URL at save and at test) and every address notation is tried against a real loopback listener that must
 * receive nothing; names are resolved for real (`localhost.`, a name from /etc/hosts).
 */

/** What the internal listener answers: internal text that must never reach a caller. */
const INTERNAL = 'INTERNAL-ONLY db_password=hunter2-internal token=tok-internal-123';

let s: TestServer;
let listener: Server;
let port: number;
let requests = 0;
let closed: SignedUp; // private networks off
let open: SignedUp; // private networks on

/** A name /etc/hosts maps to loopback, other than localhost (real resolution), else localhost itself. */
function hostsFileName(): string {
  const names = readFileSync('/etc/hosts', 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter(([address]) => address === '127.0.0.1' || address === '::1')
    .flatMap(([, ...n]) => n)
    .filter((n) => n && !/localhost/i.test(n));
  return names[0] ?? 'localhost';
}

const setPrivate = (orgId: string, allow: boolean) =>
  s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || jsonb_build_object('allowPrivateNetworks', ${allow}::boolean) WHERE id = ${orgId}`,
    ),
  );

beforeAll(async () => {
  listener = createServer((req, res) => {
    requests += 1;
    req.resume();
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`${INTERNAL} ${'stack frame at internal.service '.repeat(100)}`);
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as AddressInfo).port;
  s = await startTestServer({ worker: true });
  closed = await signUp(s);
  open = await signUp(s);
  await setPrivate(open.organizationId, true);
});
afterAll(async () => {
  await s?.close();
  listener?.closeAllConnections();
  await new Promise<void>((r) => listener?.close(() => r()));
});

/** Every notation of the listener's loopback address (PORT: the listener's port, known once it listens). */
const NOTATIONS = [
  '127.0.0.1:PORT',
  '[::1]:PORT',
  '127.1:PORT',
  '0x7f.1:PORT',
  '2130706433:PORT',
  '[::ffff:127.0.0.1]:PORT',
  'localhost.:PORT',
  `${hostsFileName()}:PORT`,
];
const notations = () => NOTATIONS.map((n) => n.replace('PORT', String(port)));

const widening = { allowCategories: ['loopback', 'private', 'metadata'], allowPrivateNetworks: true };

function expectNoInternalText(value: unknown) {
  const text = JSON.stringify(value);
  for (const leak of ['INTERNAL-ONLY', 'hunter2-internal', 'tok-internal-123', 'stack frame at internal'])
    expect(text).not.toContain(leak);
}

describe(`SSRF: one outbound policy, owned by the server, on ${testBackend()}`, () => {
  it('workflow save refuses policy fields in a tool node config (400 naming the field)', async () => {
    const r = await call(s, 'POST', '/api/v1/workflows', {
      token: closed.token,
      body: {
        definition: {
          name: 'widen',
          nodes: [
            {
              id: 'get',
              type: 'tool',
              tool: 'http_request',
              config: { url: 'http://{{input.host}}/', allowCategories: ['loopback'] },
            },
          ],
        },
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.details.issues[0].path).toBe('body.definition.nodes.get.config.allowCategories');
    expect(requests).toBe(0);
  });

  it.each(NOTATIONS.map((n) => [n]))(
    'workflow save refuses a literal tool URL http://%s',
    async (template) => {
      const hostPort = template.replace('PORT', String(port));
      const r = await call(s, 'POST', '/api/v1/workflows', {
        token: closed.token,
        body: {
          definition: {
            name: `literal ${hostPort}`,
            nodes: [
              { id: 'get', type: 'tool', tool: 'http_request', config: { url: `http://${hostPort}/x` } },
            ],
          },
        },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/loopback/);
      expect(requests).toBe(0);
    },
  );

  it('runs check again: URLs saved while private networks were on fail once they are off, in every notation', async () => {
    const later = await signUp(s);
    await setPrivate(later.organizationId, true);
    const ids: [string, string][] = [];
    for (const target of notations()) {
      const wf = await call(s, 'POST', '/api/v1/workflows', {
        token: later.token,
        body: {
          definition: {
            name: `saved ${target}`,
            nodes: [{ id: 'get', type: 'tool', tool: 'http_request', config: { url: `http://${target}/x` } }],
          },
        },
      });
      expect(wf.status, target).toBe(201);
      ids.push([target, wf.body.id]);
    }
    // no run of this organization yet, so no worker has its policy cached
    await setPrivate(later.organizationId, false);
    for (const [target, id] of ids) {
      const run = await call(s, 'POST', `/api/v1/workflows/${id}/runs`, {
        token: later.token,
        body: { input: {}, wait: 10 },
      });
      expect(run.body.status, target).toBe('failed');
      expect(JSON.stringify(run.body), target).toMatch(/loopback/);
    }
    expect(requests).toBe(0);
  });

  it('agent save refuses policy fields and loopback URLs in toolConfigs (http_request and MCP over HTTP)', async () => {
    const base = {
      name: 'widen',
      model: 'simulator:echo',
      promptTemplate: 'hi',
      tools: ['http_request', 'mcp'],
    };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ http_request: { url: 'http://{{input.x}}/', ...widening } }, /toolConfigs\.http_request\.allow/],
      [{ http_request: { url: `http://localhost.:${port}/` } }, /toolConfigs\.http_request\.url/],
      [
        { mcp: { servers: [{ transport: 'http', name: 'm', url: `http://[::1]:${port}/mcp` }] } },
        /toolConfigs\.mcp\.servers\[0\]\.url/,
      ],
      [
        {
          mcp: { servers: [{ transport: 'http', name: 'm', url: 'https://mcp.example.com/', ...widening }] },
        },
        /toolConfigs\.mcp\.servers\[0\]\.allow/,
      ],
    ];
    for (const [toolConfigs, path] of cases) {
      const r = await call(s, 'POST', '/api/v1/agents', {
        token: closed.token,
        body: { ...base, toolConfigs },
      });
      expect(r.status, JSON.stringify(toolConfigs)).toBe(400);
      expect(JSON.stringify(r.body.error.details.issues)).toMatch(path);
    }
    const ok = await call(s, 'POST', '/api/v1/agents', { token: closed.token, body: base });
    expect(ok.status).toBe(201);
    const patch = await call(s, 'PATCH', `/api/v1/agents/${ok.body.id}`, {
      token: closed.token,
      body: { toolConfigs: { http_request: { url: 'http://x.example/', allowPrivateNetworks: true } } },
    });
    expect(patch.status).toBe(400);
    expect(requests).toBe(0);
  });

  it('integration base URLs are resolved when saved: names and notations of loopback and metadata are refused', async () => {
    for (const baseUrl of [
      ...notations().map((n) => `http://${n}/v1`),
      'http://metadata.google.internal/v1',
      'http://169.254.169.254/v1',
      'http://[fd00:ec2::254]/v1',
      'http://100.100.100.200/v1',
    ]) {
      const r = await call(s, 'POST', '/api/v1/integrations', {
        token: closed.token,
        body: { name: `local ${baseUrl}`, provider: 'openai-compatible', config: { baseUrl } },
      });
      expect(r.status, baseUrl).toBe(400);
      expect(r.body.error.details.issues[0].path).toBe('body.config.baseUrl');
    }
    expect(requests).toBe(0);
  });

  it('POST /integrations/:id/test is refused by policy once private networks are off; nothing reaches the listener', async () => {
    const baseUrl = `http://localhost.:${port}/v1`;
    const created = await call(s, 'POST', '/api/v1/integrations', {
      token: open.token,
      body: { name: 'local', provider: 'openai-compatible', config: { baseUrl, testModel: 'm' } },
    });
    expect(created.status).toBe(201);
    await setPrivate(open.organizationId, false);
    try {
      const t = await call(s, 'POST', `/api/v1/integrations/${created.body.id}/test`, { token: open.token });
      expect(t.status).toBe(200);
      expect(t.body.ok).toBe(false);
      expect(t.body.error.message).toMatch(/loopback/);
      expect(requests).toBe(0);
      expectNoInternalText(t.body);
    } finally {
      await setPrivate(open.organizationId, true);
    }
  });

  it('with private networks on, loopback is reached, and a failing upstream is quoted only as a short scrubbed excerpt', async () => {
    const created = await call(s, 'POST', '/api/v1/integrations', {
      token: open.token,
      body: {
        name: 'failing',
        provider: 'openai-compatible',
        config: { baseUrl: `http://127.0.0.1:${port}/v1` },
      },
    });
    expect(created.status).toBe(201);
    const t = await call(s, 'POST', `/api/v1/integrations/${created.body.id}/test`, {
      token: open.token,
      body: { model: 'm' },
    });
    expect(requests).toBeGreaterThan(0);
    expect(t.body.ok).toBe(false);
    const message: string = t.body.error.message;
    expect(message).toMatch(/^openai-compatible answered 500: /);
    expect(message.slice(message.indexOf(': ') + 2).length).toBeLessThanOrEqual(EXCERPT_CHARS + 1);
    expect(t.body.error.message).not.toContain('hunter2-internal');
    expect(t.body.error.message).not.toContain('tok-internal-123');
    expect(t.body.integration.lastError).not.toContain('hunter2-internal');
  });
});

describe(`SSRF: the operator's configuration bounds what an organization may allow, on ${testBackend()}`, () => {
  let strict: TestServer;
  let user: SignedUp;
  beforeAll(async () => {
    // AIOPS_PRIVATE_NETWORK_CATEGORIES=none: no organization may reach private addresses
    strict = await startTestServer({
      worker: { privateNetworkCategories: [] },
      settings: { privateNetworkCategories: [] },
    });
    user = await signUp(strict);
    await strict.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${user.organizationId}`,
      ),
    );
  });
  afterAll(() => strict?.close());

  it('an organization that allows private networks still cannot save or reach loopback', async () => {
    const before = requests;
    const integration = await call(strict, 'POST', '/api/v1/integrations', {
      token: user.token,
      body: {
        name: 'local',
        provider: 'openai-compatible',
        config: { baseUrl: `http://127.0.0.1:${port}/v1` },
      },
    });
    expect(integration.status).toBe(400);
    const wf = await call(strict, 'POST', '/api/v1/workflows', {
      token: user.token,
      body: {
        definition: {
          name: 'templated',
          input: { type: 'object', properties: { h: { type: 'string' } } },
          nodes: [
            {
              id: 'get',
              type: 'tool',
              tool: 'http_request',
              config: { url: `http://{{h}}:${port}/` },
              input: { h: '{{input.h}}' },
            },
          ],
        },
      },
    });
    expect(wf.status).toBe(201);
    for (const h of ['127.0.0.1', 'localhost.', hostsFileName()]) {
      const run = await call(strict, 'POST', `/api/v1/workflows/${wf.body.id}/runs`, {
        token: user.token,
        body: { input: { h }, wait: 10 },
      });
      expect(run.body.status, h).toBe('failed');
      expect(JSON.stringify(run.body), h).toMatch(/loopback/);
    }
    expect(requests).toBe(before);
  });
});
