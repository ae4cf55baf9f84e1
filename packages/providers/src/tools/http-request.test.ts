import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@aiops/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { categorize, type HostLookup, outboundPolicy, PUBLIC_ONLY } from '../net/address.ts';
import { httpRequestConfig, httpRequestTool, runHttpRequest } from './http-request.ts';
import { createTool } from './registry.ts';

/** An organization that allows private networks, with the default operator categories. */
const PRIVATE_OK = outboundPolicy({ allowPrivateNetworks: true });

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    handler(req, res, body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

type Listening = Awaited<ReturnType<typeof listen>>;
let api: Listening;
let other: Listening;

beforeAll(async () => {
  other = await listen((_req, res) => res.end('other origin'));
  api = await listen((req, res, body) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/redirect-internal') {
      res.writeHead(302, { location: url.searchParams.get('to')! });
      return res.end();
    }
    if (url.pathname === '/redirect-other') {
      res.writeHead(307, { location: `http://127.0.0.1:${other.port}/landing` });
      return res.end();
    }
    if (url.pathname === '/see-other') {
      res.writeHead(303, { location: '/orders/landed' });
      return res.end();
    }
    if (url.pathname === '/slow') return void setTimeout(() => res.end('late'), 2_000);
    if (url.pathname === '/big') return res.end('x'.repeat(5_000));
    if (url.pathname === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 10; i++) res.write('y'.repeat(500));
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'secret=1' });
    res.end(
      JSON.stringify({ path: url.pathname, query: url.search, method: req.method, body: body || null }),
    );
  });
});
afterAll(async () => {
  await api.close();
  await other.close();
});

const signal = () => new AbortController().signal;
async function refusal(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}
/** A resolver stub: host → addresses, counting lookups. */
function stubLookup(table: Record<string, string[]>) {
  const calls: string[] = [];
  const lookup: HostLookup = async (host: string) => {
    calls.push(host);
    const list = table[host];
    if (!list) throw new Error(`ENOTFOUND ${host}`);
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return {
    lookup,
    calls,
    policy: (allow = false) => outboundPolicy({ allowPrivateNetworks: allow, lookup }),
  };
}

/** An operator who lets organizations reach loopback only (AIOPS_PRIVATE_NETWORK_CATEGORIES=loopback). */
const LOOPBACK_ONLY = outboundPolicy({ allowPrivateNetworks: true, privateCategories: ['loopback'] });

describe('http_request address policy', () => {
  it.each([
    ['http://127.0.0.1:PORT/x', 'loopback'],
    ['http://10.0.0.5/x', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://[::1]:PORT/x', 'loopback'],
    ['http://[::ffff:127.0.0.1]:PORT/x', 'loopback'],
    ['http://2130706433:PORT/x', 'loopback'],
    ['http://[fd00::1]/x', 'unique-local'],
    ['http://100.64.0.1/x', 'cgnat'],
  ])('refuses %s (%s) without connecting', async (template, category) => {
    const before = api.seen.length;
    const e = await refusal(
      runHttpRequest({ url: template.replace('PORT', String(api.port)) }, {}, signal()),
    );
    expect(e.code).toBe('address_blocked');
    expect(e.retryable).toBe(false);
    expect(e.details?.category).toBe(category);
    expect(api.seen.length).toBe(before);
  });

  it('refuses host names that resolve to internal addresses, even when one address is public', async () => {
    const { policy } = stubLookup({
      'internal.example': ['10.1.2.3'],
      'metadata.example': ['169.254.169.254'],
      'v6loop.example': ['::1'],
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
    });
    for (const host of ['internal.example', 'metadata.example', 'v6loop.example', 'mixed.example']) {
      const e = await refusal(runHttpRequest({ url: `http://${host}/` }, {}, signal(), policy()));
      expect(e.code, host).toBe('address_blocked');
    }
  });

  it('connects to the address it checked (one lookup per hop, no second resolution)', async () => {
    const { calls, policy } = stubLookup({ 'orders.internal.test': ['127.0.0.1'] });
    const r = await runHttpRequest(
      { url: `http://orders.internal.test:${api.port}/orders/1` },
      {},
      signal(),
      policy(true),
    );
    expect(r.status).toBe(200);
    expect(calls).toEqual(['orders.internal.test']);
    expect(api.seen.at(-1)!.headers.host).toBe(`orders.internal.test:${api.port}`);
  });

  it('re-checks every redirect hop and refuses one into an internal address', async () => {
    const before = api.seen.length;
    for (const [to, category] of [
      ['http://169.254.169.254/latest/meta-data/', 'metadata'],
      ['http://10.0.0.7/admin', 'private'],
      ['http://[fd00:ec2::254]/', 'metadata'],
      ['http://100.64.0.1/', 'cgnat'],
    ]) {
      const e = await refusal(
        runHttpRequest(
          { url: `http://127.0.0.1:${api.port}/redirect-internal?to={{to}}` },
          { to },
          signal(),
          LOOPBACK_ONLY,
        ),
      );
      expect(e.code, to).toBe('address_blocked');
      expect(e.details?.category, to).toBe(category);
    }
    // the first hop (loopback, allowed here) was made each time; the redirect target never was
    expect(api.seen.length - before).toBe(4);
    const e = await refusal(
      runHttpRequest(
        { url: `http://127.0.0.1:${api.port}/redirect-internal?to={{to}}` },
        { to: 'http://192.168.1.1/' },
        signal(),
        LOOPBACK_ONLY,
      ),
    );
    expect(e.details?.category).toBe('private');
  });

  it('categorizes addresses', () => {
    expect(categorize('8.8.8.8')).toBe('public');
    expect(categorize('64:ff9b::a9fe:a9fe')).toBe('metadata');
    expect(categorize('fe80::1')).toBe('link-local');
  });
});

describe('http_request when the organization allows private networks', () => {
  const base = () => `http://127.0.0.1:${api.port}`;

  it('fills method, URL, headers and JSON body from the input; parses a JSON answer; hides set-cookie', async () => {
    const tool = httpRequestTool(
      {
        url: `${base()}/orders/{{orderId}}?note={{note}}`,
        method: 'POST',
        headers: { 'x-trace': 'trace-{{orderId}}' },
        body: { id: '{{orderId}}', qty: '{{qty}}', text: 'order {{orderId}}' },
      },
      PRIVATE_OK,
    );
    const r = (await tool.execute({ orderId: 'A/17', qty: 3, note: 'a b&c' }, signal())) as {
      status: number;
      headers: Record<string, string>;
      body: { path: string; query: string; body: string };
    };
    expect(r.status).toBe(200);
    expect(r.body.path).toBe('/orders/A%2F17');
    expect(r.body.query).toBe('?note=a%20b%26c');
    expect(JSON.parse(r.body.body)).toEqual({ id: 'A/17', qty: 3, text: 'order A/17' });
    expect(api.seen.at(-1)!.headers['x-trace']).toBe('trace-A/17');
    expect(api.seen.at(-1)!.headers['content-type']).toBe('application/json');
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('follows redirects; 303 turns into GET; credentials are not sent to another origin', async () => {
    const seeOther = await runHttpRequest(
      { url: `${base()}/see-other`, method: 'POST', body: 'x' },
      {},
      signal(),
      PRIVATE_OK,
    );
    expect(seeOther.body).toMatchObject({ path: '/orders/landed', method: 'GET', body: null });
    const cross = await runHttpRequest(
      { url: `${base()}/redirect-other`, headers: { authorization: 'Bearer t0ken' } },
      {},
      signal(),
      PRIVATE_OK,
    );
    expect(cross.body).toBe('other origin');
    expect(api.seen.at(-1)!.headers.authorization).toBe('Bearer t0ken');
    expect(other.seen.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('times out with a retryable error', async () => {
    const e = await refusal(
      runHttpRequest({ url: `${base()}/slow`, timeoutMs: 200 }, {}, signal(), PRIVATE_OK),
    );
    expect(e.code).toBe('tool_timeout');
    expect(e.retryable).toBe(true);
  });

  it('caps the response size, declared or streamed', async () => {
    for (const path of ['/big', '/big-chunked']) {
      const e = await refusal(
        runHttpRequest({ url: `${base()}${path}`, maxResponseBytes: 1_000 }, {}, signal(), PRIVATE_OK),
      );
      expect(e.code, path).toBe('tool_response_too_large');
    }
  });

  it('refuses input the template cannot use, and non-http URLs', async () => {
    const missing = await refusal(runHttpRequest({ url: `${base()}/{{nope}}` }, {}, signal(), PRIVATE_OK));
    expect(missing.code).toBe('tool_invalid_input');
    const header = await refusal(
      runHttpRequest(
        { url: `${base()}/`, headers: { x: '{{v}}' } },
        { v: 'a\r\nb: c' },
        signal(),
        PRIVATE_OK,
      ),
    );
    expect(header.code).toBe('tool_invalid_input');
    const scheme = await refusal(runHttpRequest({ url: 'file:///etc/passwd' }, {}, signal()));
    expect(scheme.code).toBe('tool_invalid_input');
  });
});

describe('the policy is the server’s, never the config’s (issue 11, finding 1)', () => {
  it.each([
    { allowCategories: ['loopback'] },
    { allowPrivateNetworks: true },
    { allowCategories: ['loopback', 'private', 'metadata'], allowPrivateNetworks: true },
  ])('a config carrying %o does not reach a loopback listener', async (widening) => {
    const before = api.seen.length;
    const config = { url: `http://127.0.0.1:${api.port}/x`, ...widening };
    const viaRegistry = createTool('http_request', config, PUBLIC_ONLY);
    const e1 = await refusal(viaRegistry.execute({}, signal()) as Promise<unknown>);
    const e2 = await refusal(runHttpRequest(httpRequestConfig(config), {}, signal(), PUBLIC_ONLY));
    for (const e of [e1, e2]) {
      expect(e.code).toBe('address_blocked');
      expect(e.details?.category).toBe('loopback');
    }
    expect(api.seen.length).toBe(before);
  });

  it('keeps only the tool’s own fields of a stored config', () => {
    expect(
      httpRequestConfig({ url: 'https://x.test/', method: 'POST', allowCategories: ['loopback'], lookup: 1 }),
    ).toEqual({ url: 'https://x.test/', method: 'POST' });
  });

  it.each([
    ['http://[::1]:PORT/', 'loopback'],
    ['http://127.1:PORT/', 'loopback'],
    ['http://0x7f.1:PORT/', 'loopback'],
    ['http://0177.0.0.1:PORT/', 'loopback'],
    ['http://[::ffff:127.0.0.1]:PORT/', 'loopback'],
    ['http://[::ffff:7f00:1]:PORT/', 'loopback'],
    ['http://[0:0:0:0:0:0:0:1]:PORT/', 'loopback'],
    ['http://localhost.:PORT/', 'loopback'],
    ['http://LOCALHOST:PORT/', 'loopback'],
    ['http://api.localhost:PORT/', 'loopback'],
    ['http://0.0.0.0:PORT/', 'unspecified'],
    ['http://[::]:PORT/', 'unspecified'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata'],
    ['http://metadata.google.internal./', 'metadata'],
    ['http://100.100.100.200/latest/meta-data/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://[::ffff:169.254.169.254]/', 'metadata'],
    ['http://100.127.255.254/', 'cgnat'],
    ['http://172.31.0.1/', 'private'],
    ['http://192.168.0.1/', 'private'],
    ['http://[fc00::1]/', 'unique-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://[2002:7f00:1::]/', 'loopback'],
    ['http://[64:ff9b::7f00:1]/', 'loopback'],
  ])('refuses %s (%s) without connecting', async (template, category) => {
    const before = api.seen.length;
    const e = await refusal(
      runHttpRequest({ url: template.replace('PORT', String(api.port)) }, {}, signal()),
    );
    expect(e.code).toBe('address_blocked');
    expect(e.details?.category).toBe(category);
    expect(api.seen.length).toBe(before);
  });

  it('judges names from a resolver (e.g. /etc/hosts) by every address they resolve to', async () => {
    const before = api.seen.length;
    const { policy, calls } = stubLookup({ 'printer.office': ['127.0.0.1'], 'dual.example': ['::1'] });
    for (const host of ['printer.office', 'dual.example']) {
      const e = await refusal(runHttpRequest({ url: `http://${host}:${api.port}/` }, {}, signal(), policy()));
      expect(e.code, host).toBe('address_blocked');
      expect(e.details).toMatchObject({ host, category: 'loopback' });
    }
    expect(calls).toEqual(['printer.office', 'dual.example']);
    expect(api.seen.length).toBe(before);
  });

  it('allowing private networks does not unlock cloud metadata unless the operator names it', async () => {
    for (const address of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254']) {
      expect(categorize(address)).toBe('metadata');
      expect(PRIVATE_OK.allow.has('metadata')).toBe(false);
    }
    const e = await refusal(runHttpRequest({ url: 'http://169.254.169.254/' }, {}, signal(), PRIVATE_OK));
    expect(e.details?.category).toBe('metadata');
    expect(
      outboundPolicy({ allowPrivateNetworks: true, privateCategories: ['metadata'] }).allow.has('metadata'),
    ).toBe(true);
    // unspecified and multicast are never reachable, whatever the operator lists
    const never = outboundPolicy({
      allowPrivateNetworks: true,
      privateCategories: ['unspecified', 'multicast'] as never,
    });
    expect([...never.allow]).toEqual([]);
  });
});

describe('credentials on cross-origin redirects (issue 11, finding 9)', () => {
  const credentials = {
    authorization: 'Bearer t0ken',
    cookie: 'sid=1',
    'x-api-key': 'k-123',
    'x-auth-token': 't-123',
    'x-client-secret': 's-123',
    'api-token': 'a-123',
    'x-session-id': 'sess-1',
  };

  it('drops Authorization, Cookie and every credential-bearing custom header; keeps the others', async () => {
    const r = await runHttpRequest(
      { url: `http://127.0.0.1:${api.port}/redirect-other`, headers: { ...credentials, 'x-trace': 'tr-1' } },
      {},
      signal(),
      PRIVATE_OK,
    );
    expect(r.body).toBe('other origin');
    const first = api.seen.at(-1)!.headers;
    const landed = other.seen.at(-1)!.headers;
    for (const name of Object.keys(credentials)) {
      expect(first[name], name).toBeDefined();
      expect(landed[name], name).toBeUndefined();
    }
    expect(landed['x-trace']).toBe('tr-1');
  });

  it('keeps them on a same-origin redirect', async () => {
    await runHttpRequest(
      { url: `http://127.0.0.1:${api.port}/see-other`, headers: credentials },
      {},
      signal(),
      PRIVATE_OK,
    );
    const landed = api.seen.at(-1)!;
    expect(landed.url).toBe('/orders/landed');
    for (const name of Object.keys(credentials)) expect(landed.headers[name], name).toBeDefined();
  });
});
