import { INT4_MAX } from '@aiops/contracts';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../http/input-guard.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';

/**
 * Input PostgreSQL cannot store, numbers outside their column's range and JSON deeper than the limit are
 * refused with 400 naming the field, wherever they are sent: body, JSON values, query and path.
 */
let s: TestServer;
let owner: SignedUp;
let workflowId: string;
let agentId: string;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  const wf = await call(s, 'POST', '/api/v1/workflows', {
    token: owner.token,
    body: {
      status: 'active',
      definition: {
        name: 'limits',
        nodes: [
          { id: 'echo', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x {{input.text}}' } },
        ],
        connections: [],
      },
    },
  });
  workflowId = wf.body.id;
  const agent = await call(s, 'POST', '/api/v1/agents', {
    token: owner.token,
    body: { name: 'limits', type: 'analyzer', model: 'simulator:echo', promptTemplate: '{{input.text}}' },
  });
  agentId = agent.body.id;
});
afterAll(() => s?.close());

/** A raw request (the body is sent as given, so it can carry escapes JSON.stringify would not write). */
async function raw(method: string, path: string, body?: string) {
  const res = await s.request(path, {
    method,
    headers: {
      authorization: `Bearer ${owner.token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

/** JSON text nested `levels` deep (objects and arrays alternating), written without recursion. */
function deep(levels: number): string {
  let open = '';
  let close = '';
  for (let i = 0; i < levels; i++) {
    open += i % 2 ? '[' : '{"a":';
    close = (i % 2 ? ']' : '}') + close;
  }
  return `${open}"bottom"${close}`;
}

const issuePaths = (body: { error: { details?: { issues?: { path: string }[] } } }) =>
  (body.error.details?.issues ?? []).map((i) => i.path);

describe(`input limits on ${testBackend()}`, () => {
  it('JSON nested 5,000 deep is refused with 400 naming the limit (it overflowed the stack)', async () => {
    const runs = `/api/v1/workflows/${workflowId}/runs`;
    for (const [path, body] of [
      [runs, `{"input":{"text":"x","nested":${deep(5_000)}}}`],
      [runs, `{"input":{"text":"x"},"metadata":${deep(5_000)}}`],
      [`/api/v1/agents/${agentId}/try`, `{"input":{"text":${deep(5_000)}}}`],
      [
        '/api/v1/agents',
        `{"name":"deep","model":"simulator:echo","promptTemplate":"x","metadata":${deep(5_000)}}`,
      ],
    ] as const) {
      const r = await raw('POST', path, body);
      expect(r.status, `${path}: ${r.text.slice(0, 200)}`).toBe(400);
      expect(r.body.error.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    }
    // Just under the limit is accepted.
    const ok = await raw(
      'POST',
      runs,
      `{"input":{"text":"x","nested":${deep(MAX_JSON_DEPTH - 3)}},"wait":10}`,
    );
    expect(ok.status, ok.text.slice(0, 300)).toBe(201);
  });

  it('NUL and lone surrogates are refused with 400 naming the field, in body, JSON values, query and path', async () => {
    const cases: [string, string, string | undefined, string][] = [
      ['POST', '/api/v1/agents', '{"name":"a\\u0000b","model":"simulator:echo"}', 'body.name'],
      ['POST', '/api/v1/agents', '{"name":"a\\ud800b","model":"simulator:echo"}', 'body.name'],
      [
        'POST',
        '/api/v1/agents',
        '{"name":"ok","model":"simulator:echo","metadata":{"k\\u0000":1}}',
        'body.metadata',
      ],
      [
        'POST',
        `/api/v1/workflows/${workflowId}/runs`,
        '{"input":{"text":["a","\\u0000"]}}',
        'body.input.text.1',
      ],
      [
        'POST',
        `/api/v1/workflows/${workflowId}/runs`,
        '{"input":{"text":"\\udc00 low first"}}',
        'body.input.text',
      ],
      ['GET', '/api/v1/agents?q=%00', undefined, 'query.q'],
      ['GET', '/api/v1/workflows?q=a%00b', undefined, 'query.q'],
      ['GET', '/api/v1/memory/threads/%00', undefined, 'path.threadKey'],
      ['POST', `/api/v1/runs/${workflowId}/steps/%00/approve`, '{}', 'path.stepId'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await raw(method, path, body);
      expect(r.status, `${method} ${path} ${body}: ${r.text.slice(0, 300)}`).toBe(400);
      expect(issuePaths(r.body), `${method} ${path}`).toContain(field);
    }
  });

  it('numbers outside their column are refused by the schema', async () => {
    const cases: [string, string, unknown, string][] = [
      [
        'POST',
        '/api/v1/agents',
        { name: 't', model: 'simulator:echo', promptTemplate: 'x', temperature: 1e-320 },
        'body.temperature',
      ],
      [
        'POST',
        '/api/v1/agents',
        { name: 't', model: 'simulator:echo', promptTemplate: 'x', topP: 1e-45 },
        'body.topP',
      ],
      [
        'POST',
        `/api/v1/workflows/${workflowId}/runs`,
        { input: { text: 'x' }, version: INT4_MAX + 1 },
        'body.version',
      ],
      ['POST', `/api/v1/workflows/${workflowId}/rollback`, { version: INT4_MAX + 1 }, 'body.version'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await call(s, method, path, { token: owner.token, body });
      expect(r.status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(issuePaths(r.body)).toContain(field);
    }
    const version = await call(s, 'GET', `/api/v1/workflows/${workflowId}/versions/${INT4_MAX + 1}`, {
      token: owner.token,
    });
    expect(version.status).toBe(400);
    expect(issuePaths(version.body)).toContain('path.version');
    // The edges themselves are accepted: the largest version is simply not found.
    const last = await call(s, 'GET', `/api/v1/workflows/${workflowId}/versions/${INT4_MAX}`, {
      token: owner.token,
    });
    expect(last.status).toBe(404);
    const zero = await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: { name: 'zero temperature', model: 'simulator:echo', promptTemplate: 'x', temperature: 0 },
    });
    expect(zero.status, JSON.stringify(zero.body)).toBe(201);
  });

  it('token-like query values are masked in logged URLs', async () => {
    // Values that are not hex, and long: a request id or trace id in another log line could contain a hex
    // one, and a base64url token a short one (a CI run found "k-9" in another line of the server's log).
    await s.request(
      '/api/v1/x?token=tokval-xyz&sk=sk-123&api_key=keyval-xyz&page=2&q=sk-live-456&code=codeval-xyz',
    );
    const line = s.logs.find((l) => l.includes('/api/v1/x?'));
    expect(line).toBeDefined();
    const url = (JSON.parse(line as string) as { req: { url: string } }).req.url;
    expect(url).toBe(
      '/api/v1/x?token=[redacted]&sk=[redacted]&api_key=[redacted]&page=2&q=[redacted]&code=[redacted]',
    );
    for (const secret of ['tokval-xyz', 'sk-123', 'keyval-xyz', 'sk-live-456', 'codeval-xyz']) {
      expect(
        s.logs.some((l) => l.includes(secret)),
        secret,
      ).toBe(false);
    }
  });
});
