import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostLookup, outboundPolicy, PUBLIC_ONLY } from './address.ts';
import { outboundConfigIssues } from './config-issues.ts';
import { guardedFetch } from './fetch.ts';
import { blockedCause, urlRefusal } from './resolve.ts';

let server: Server;
let port: number;
const seen: IncomingMessage[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    if (req.url === '/to-metadata') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      return res.end();
    }
    res.end(`hello ${req.headers.host}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const table =
  (entries: Record<string, string[]>): HostLookup =>
  async (host) => {
    const list = entries[host];
    if (!list) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

async function failure(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeDefined();
  return e;
}

describe('guardedFetch: the fetch of provider calls and MCP over HTTP', () => {
  it.each(['127.0.0.1', '[::ffff:127.0.0.1]', 'localhost.', 'localhost'])(
    'refuses http://%s:PORT under a public-only policy before connecting',
    async (host) => {
      const before = seen.length;
      const e = await failure(guardedFetch(PUBLIC_ONLY)(`http://${host}:${port}/`));
      expect(blockedCause(e)?.details?.category).toBe('loopback');
      expect(seen.length).toBe(before);
    },
  );

  it('refuses a name that resolves to loopback; connects to the checked address when allowed', async () => {
    const lookup = table({ 'models.internal.test': ['127.0.0.1'] });
    const before = seen.length;
    const refused = await failure(
      guardedFetch(outboundPolicy({ allowPrivateNetworks: false, lookup }))(
        `http://models.internal.test:${port}/`,
      ),
    );
    expect(blockedCause(refused)?.details).toMatchObject({
      host: 'models.internal.test',
      address: '127.0.0.1',
    });
    expect(seen.length).toBe(before);
    const ok = await guardedFetch(outboundPolicy({ allowPrivateNetworks: true, lookup }))(
      `http://models.internal.test:${port}/`,
    );
    expect(await ok.text()).toBe(`hello models.internal.test:${port}`);
  });

  it('checks every redirect hop (a redirect into the metadata endpoint is refused)', async () => {
    const e = await failure(
      guardedFetch(outboundPolicy({ allowPrivateNetworks: true }))(`http://127.0.0.1:${port}/to-metadata`),
    );
    expect(blockedCause(e)?.details?.category).toBe('metadata');
  });
});

describe('save-time checks', () => {
  it('urlRefusal judges literal and named hosts, and accepts names that do not resolve now', async () => {
    const lookup = table({ 'vm.test': ['127.0.0.1'] });
    const policy = outboundPolicy({ allowPrivateNetworks: false, lookup });
    expect(await urlRefusal('http://vm.test:1234/v1', policy)).toMatch(
      /vm\.test resolves to 127\.0\.0\.1, a loopback/,
    );
    expect(await urlRefusal('http://[::1]/v1', policy)).toMatch(/loopback/);
    expect(await urlRefusal('http://metadata.google.internal/', policy)).toMatch(/metadata/);
    expect(await urlRefusal('https://api.unresolvable.test/v1', policy)).toBeUndefined();
    expect(await urlRefusal('file:///etc/passwd', policy)).toMatch(/only http and https/);
    expect(
      await urlRefusal('http://vm.test/', outboundPolicy({ allowPrivateNetworks: true, lookup })),
    ).toBeUndefined();
  });

  it('finds policy fields and refused literal URLs in agents’ tool configs and workflow definitions', async () => {
    const agentIssues = await outboundConfigIssues(
      {
        toolConfigs: {
          http_request: { url: 'http://127.0.0.1:9/', allowCategories: ['loopback'] },
          mcp: {
            servers: [
              { transport: 'http', name: 'm', url: 'http://[::1]:9/mcp', allowPrivateNetworks: true },
            ],
          },
        },
      },
      PUBLIC_ONLY,
    );
    expect(agentIssues.map((i) => i.path).sort()).toEqual([
      'toolConfigs.http_request.allowCategories',
      'toolConfigs.http_request.url',
      'toolConfigs.mcp.servers[0].allowPrivateNetworks',
      'toolConfigs.mcp.servers[0].url',
    ]);
    const definition = {
      nodes: [
        {
          id: 'call',
          type: 'tool',
          tool: 'http_request',
          config: { url: 'http://{{input.host}}/', allowCategories: [] },
        },
        { id: 'ask', type: 'agent', agent: { toolConfigs: { http_request: { url: 'http://10.0.0.1/' } } } },
      ],
    };
    const issues = await outboundConfigIssues({ definition }, PUBLIC_ONLY);
    expect(issues).toEqual([
      expect.objectContaining({ nodeId: 'call', path: 'nodes.call.config.allowCategories' }),
      expect.objectContaining({ nodeId: 'ask', path: 'nodes.ask.agent.toolConfigs.http_request.url' }),
    ]);
    // a templated URL is judged at run time only; an allowed one passes
    expect(
      await outboundConfigIssues(
        { toolConfigs: { http_request: { url: 'http://10.0.0.1/' } } },
        outboundPolicy({ allowPrivateNetworks: true }),
      ),
    ).toEqual([]);
  });
});

describe('guardedFetch redirects', () => {
  it('drops Authorization, Cookie and credential-bearing custom headers on a cross-origin hop; keeps the body on 307', async () => {
    const landed: IncomingMessage[] = [];
    const bodies: string[] = [];
    const other = createServer(async (req, res) => {
      landed.push(req);
      let body = '';
      for await (const c of req) body += c;
      bodies.push(body);
      res.end('landed');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherPort = (other.address() as AddressInfo).port;
    const first = createServer((_req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${otherPort}/landing` });
      res.end();
    });
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    try {
      const f = guardedFetch(outboundPolicy({ allowPrivateNetworks: true }));
      // another origin: same host, another port
      const res = await f(`http://127.0.0.1:${(first.address() as AddressInfo).port}/start`, {
        method: 'POST',
        body: '{"q":1}',
        headers: {
          authorization: 'Bearer a',
          'x-api-key': 'k',
          'x-goog-api-key': 'g',
          'anthropic-api-key': 'x',
          cookie: 'c=1',
          'x-trace': 't',
        },
      });
      expect(await res.text()).toBe('landed');
      const h = landed[0]!.headers;
      for (const name of ['authorization', 'x-api-key', 'x-goog-api-key', 'anthropic-api-key', 'cookie'])
        expect(h[name], name).toBeUndefined();
      expect(h['x-trace']).toBe('t');
      expect(landed[0]!.method).toBe('POST');
      expect(bodies[0]).toBe('{"q":1}');
    } finally {
      first.close();
      other.closeAllConnections();
      other.close();
    }
  });
});
