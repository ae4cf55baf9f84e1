/**
 * Resolving a host and judging every address it resolves to, before a connection is made. The address
 * returned is the one to connect to (callers pin the connection to it, so a second lookup cannot answer
 * differently: no DNS rebinding).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '@aiops/core';
import {
  type AddressCategory,
  categoryOfName,
  type HostLookup,
  type OutboundPolicy,
  type ResolvedAddress,
  refusal,
  refusedCategory,
} from './address.ts';

export const systemLookup: HostLookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** The error of a refused address: 403 `address_blocked`, never retried. */
export function addressBlocked(
  host: string,
  address: string | undefined,
  category: AddressCategory,
): AppError {
  const what = address && address !== host ? `${host} resolves to ${address}, a` : `${host} is a`;
  const fix =
    category === 'unspecified' || category === 'multicast'
      ? 'such addresses are never reachable'
      : "the organization's settings.allowPrivateNetworks (and the operator's AIOPS_PRIVATE_NETWORK_CATEGORIES) decide which private addresses are reachable";
  return new AppError(403, 'address_blocked', `${what} ${category} address: ${fix}`, {
    retryable: false,
    details: { host, ...(address ? { address } : {}), category },
  });
}

export const isAddressBlocked = (e: unknown): e is AppError =>
  e instanceof AppError && e.code === 'address_blocked';

/** The policy refusal somewhere in an error's cause chain (fetch wraps the connector's error). */
export function blockedCause(error: unknown): AppError | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 6; depth++) {
    if (isAddressBlocked(e)) return e;
    e = (e as { cause?: unknown }).cause ?? (e as { lastError?: unknown }).lastError;
  }
  return undefined;
}

/** Thrown when a host does not resolve (retryable: DNS may answer later). */
export function unresolved(host: string, cause: string): AppError {
  return new AppError(502, 'host_unresolved', `cannot resolve ${host}: ${cause}`, {
    retryable: true,
    details: { host },
  });
}

/** Resolves `hostname` (a name or an IP literal, brackets allowed) and checks every address; returns one. */
export async function checkedAddress(hostname: string, policy: OutboundPolicy): Promise<ResolvedAddress> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  const literal = isIP(host);
  if (literal) {
    const why = refusal(host, policy);
    if (why) throw addressBlocked(host, undefined, why);
    return { address: host, family: literal === 6 ? 6 : 4 };
  }
  const named = categoryOfName(host);
  if (named) {
    const why = refusedCategory(named, policy);
    if (why) throw addressBlocked(host, undefined, why);
  }
  const addresses = await (policy.lookup ?? systemLookup)(host).catch((e: unknown) => {
    throw unresolved(host, (e as { code?: string }).code ?? (e as Error).message);
  });
  if (addresses.length === 0) throw unresolved(host, 'no address');
  for (const a of addresses) {
    const why = refusal(a.address, policy);
    if (why) throw addressBlocked(host, a.address, why);
  }
  return addresses[0]!;
}

/**
 * Save-time check of a URL: refused when it is not http(s), or when its host is (or resolves to) an
 * address the policy refuses. A name that does not resolve now is accepted (it is checked again at every
 * connection). Returns the reason, or undefined.
 */
export async function urlRefusal(
  url: string,
  policy: OutboundPolicy,
  timeoutMs = 3_000,
): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `${url} is not a URL`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `only http and https URLs are allowed, not ${parsed.protocol}`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([checkedAddress(parsed.hostname, policy), timeout]);
    return undefined;
  } catch (e) {
    if (isAddressBlocked(e)) return `${parsed.origin}: ${e.message}`;
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
