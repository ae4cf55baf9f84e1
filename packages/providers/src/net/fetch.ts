/**
 * Connections that obey the outbound policy, for every outbound path of the server:
 * - `guardedFetch(policy)`: a `fetch` (undici) whose every connection — the first and each redirect hop —
 *   resolves the host, judges every address, and connects to the checked address (the provider packages
 *   of the AI SDK and the MCP HTTP transport take it as their `fetch`); it follows redirects itself so
 *   that, beyond what the fetch standard drops, every credential-bearing header (`isCredentialHeader`) is
 *   dropped on a cross-origin hop;
 * - `pinnedLookup(address)`: a `lookup` for node:http/net that answers with an address already checked
 *   (the `http_request` tool, which follows its redirects itself).
 */
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector, Headers, fetch as undiciFetch } from 'undici';
import type { OutboundPolicy, ResolvedAddress } from './address.ts';
import { checkedAddress } from './resolve.ts';

/** Headers that carry credentials: never sent on to another origin. */
export const isCredentialHeader = (name: string) =>
  /^(?:authorization|proxy-authorization|cookie)$|key|token|secret|auth|session|passw|signature|credential/i.test(
    name,
  );

/** A `lookup` for net.connect that answers with the address already checked. */
export function pinnedLookup(target: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
}

/** An undici connector that checks the host before each connection and connects to the checked address. */
function guardedConnector(policy: OutboundPolicy): buildConnector.connector {
  const connect = buildConnector({});
  return (options, callback) => {
    checkedAddress(options.hostname, policy).then(
      (target) =>
        // `host` keeps the name, so TLS still verifies the certificate for it (SNI from `host`).
        connect({ ...options, hostname: target.address }, callback),
      (error: Error) => callback(error, null),
    );
  };
}

const agents = new Map<string, Agent>();

function agentFor(policy: OutboundPolicy): Agent {
  if (policy.lookup) return new Agent({ connect: guardedConnector(policy) });
  const key = [...policy.allow].sort().join(',');
  let agent = agents.get(key);
  if (!agent) {
    agent = new Agent({ connect: guardedConnector(policy) });
    agents.set(key, agent);
  }
  return agent;
}

type FetchInput = Parameters<typeof undiciFetch>[0];
type FetchInit = NonNullable<Parameters<typeof undiciFetch>[1]>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** Follows redirects as fetch does, but drops every credential-bearing header on a cross-origin hop. */
async function follow(dispatcher: Agent, input: FetchInput, init: FetchInit = {}) {
  const manual = init.redirect === 'manual' || init.redirect === 'error';
  if (manual || !(typeof input === 'string' || input instanceof URL))
    return undiciFetch(input, { ...init, dispatcher });
  let url = new URL(String(input));
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers as ConstructorParameters<typeof Headers>[0]);
  for (let hop = 0; ; hop++) {
    const res = await undiciFetch(url, { ...init, method, body, headers, redirect: 'manual', dispatcher });
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || !location) return res;
    if (hop >= MAX_REDIRECTS)
      throw new TypeError(`more than ${MAX_REDIRECTS} redirects from ${String(input)}`);
    const next = new URL(location, url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') return res;
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      if (method !== 'HEAD') method = 'GET';
      body = undefined;
      for (const h of ['content-type', 'content-length', 'content-encoding', 'content-language'])
        headers.delete(h);
    } else if (body !== undefined && body !== null && typeof body !== 'string') {
      return res; // a streamed body cannot be sent again: the caller gets the redirect
    }
    await res.body?.cancel();
    if (next.origin !== url.origin)
      for (const name of [...headers.keys()]) if (isCredentialHeader(name)) headers.delete(name);
    url = next;
  }
}

/** A `fetch` whose connections obey `policy` (a refused address fails the call with its `address_blocked` cause). */
export function guardedFetch(policy: OutboundPolicy): typeof fetch {
  const dispatcher = agentFor(policy);
  return ((input: FetchInput, init?: FetchInit) =>
    follow(dispatcher, input, init)) as unknown as typeof fetch;
}
