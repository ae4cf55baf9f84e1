import { AppError, type CodeLimits } from '@aiops/core';
import { guardedFetch, type OutboundPolicy } from '@aiops/providers';
import type { CodeRunResult, CodeSandbox, SandboxFetch } from './sandbox.ts';

/** A response body the code's fetch receives, at most. */
const MAX_RESPONSE_CHARS = 1024 * 1024;

export interface CodeSource {
  language: 'javascript' | 'typescript';
  code: string;
  network?: { allowedHosts: string[] } | undefined;
}

/** Whether a URL's host is one of the allowed hosts (`*.example.com`: its subdomains). */
export function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  return allowedHosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h));
}

/**
 * The code's fetch: only to the node's allowed hosts, over http(s), through the platform's guarded fetch
 * (the organization's outbound-address policy, which no node setting widens); the body is bounded.
 */
export function sandboxFetch(
  policy: OutboundPolicy,
  allowedHosts: readonly string[],
  signal?: AbortSignal,
): SandboxFetch {
  const fetcher = guardedFetch(policy);
  return async (raw, init) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new Error(`fetch: "${raw.slice(0, 200)}" is not an absolute URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error('fetch: only http and https URLs');
    if (!hostAllowed(url, allowedHosts))
      throw new Error(
        `fetch: ${url.hostname} is not in this step's allowed hosts (${allowedHosts.join(', ')})`,
      );
    const response = await fetcher(url, {
      method: init.method,
      headers: init.headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      redirect: 'manual',
      ...(signal ? { signal } : {}),
    });
    const body = await response.text();
    if (body.length > MAX_RESPONSE_CHARS)
      throw new Error(
        `fetch: the response has ${body.length} characters; at most ${MAX_RESPONSE_CHARS} are read`,
      );
    return {
      status: response.status,
      url: url.toString(),
      headers: Object.fromEntries(response.headers),
      body,
    };
  };
}

export interface CodeRunOptions {
  sandbox: CodeSandbox;
  limits: CodeLimits;
  policy: () => Promise<OutboundPolicy>;
  input: unknown;
  nodes: Record<string, unknown>;
  variables: Record<string, unknown>;
  signal?: AbortSignal | undefined;
}

/** Runs code in the sandbox with its tier's limits; network only when both the tier and the code allow it. */
export async function runCodeSource(source: CodeSource, o: CodeRunOptions): Promise<CodeRunResult> {
  const hosts = source.network?.allowedHosts;
  if (hosts?.length && !o.limits.network) {
    throw new AppError(
      403,
      'code_network_not_allowed',
      "This organization's plan does not allow network access from code steps: remove the step's network setting or upgrade the plan",
      { retryable: false },
    );
  }
  return o.sandbox.run({
    code: source.code,
    language: source.language,
    input: o.input,
    nodes: o.nodes,
    variables: o.variables,
    limits: o.limits,
    fetch: hosts?.length ? sandboxFetch(await o.policy(), hosts, o.signal) : undefined,
    signal: o.signal,
  });
}
