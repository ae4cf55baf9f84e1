/**
 * Connections that obey the outbound policy, for every outbound path of the server:
 * - `guardedFetch(policy)`: a `fetch` (undici) whose every connection — the first and each redirect hop —
 *   resolves the host, judges every address, and connects to the checked address (the provider packages
 *   of the AI SDK and the MCP HTTP transport take it as their `fetch`);
 * - `pinnedLookup(address)`: a `lookup` for node:http/net that answers with an address already checked
 *   (the `http_request` tool, which follows its redirects itself).
 */
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import type { OutboundPolicy, ResolvedAddress } from './address.ts';
import { checkedAddress } from './resolve.ts';

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

/** A `fetch` whose connections obey `policy` (a refused address fails the call with its `address_blocked` cause). */
export function guardedFetch(policy: OutboundPolicy): typeof fetch {
  const dispatcher = agentFor(policy);
  return ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
}
