/**
 * The `http_request` tool: a templated HTTP call (method, URL, headers, body filled from the tool's input)
 * with a timeout and a response size cap, that cannot be pointed at internal addresses:
 * - the outbound policy is the server's (`OutboundPolicy`, passed beside the config, never read from it):
 *   the host is resolved and refused if any address it resolves to is not allowed (see ../net/);
 * - it then connects to the very address it checked (no second lookup, so no DNS rebinding);
 * - it follows redirects itself, checking every hop the same way, up to `maxRedirects`;
 * - credentials (`authorization`, `cookie`, and custom headers whose name says key, token, secret, auth,
 *   session or password) are not carried to another origin.
 * An answer with any status is a result (the model can read a 404); failures to get one are errors.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AppError,
  currentTraceparent,
  type JsonSchema,
  type ModelTool,
  deadline as withDeadline,
} from '@aiops/core';
import { abortError } from '../abort.ts';
import { type OutboundPolicy, PUBLIC_ONLY, type ResolvedAddress } from '../net/address.ts';
import { isCredentialHeader, pinnedLookup } from '../net/fetch.ts';
import { checkedAddress } from '../net/resolve.ts';
import { renderHeader, renderJson, renderText, renderUrl, TemplateError } from './template.ts';

export interface HttpRequestToolConfig {
  /** The name the model sees; default `http_request`. */
  name?: string;
  description?: string;
  /** Method template; default GET. */
  method?: string;
  /** URL template, e.g. `https://api.example.com/orders/{{orderId}}` (values are percent-encoded). */
  url: string;
  headers?: Record<string, string>;
  /** A string template, or a JSON template (objects, arrays, `"{{value}}"` strings). */
  body?: unknown;
  /** The input the placeholders read; by default any object. */
  inputSchema?: JsonSchema;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 1 MiB. */
  maxResponseBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
}

/** The fields of `HttpRequestToolConfig`: anything else in a stored config is ignored. */
export const HTTP_REQUEST_FIELDS = [
  'name',
  'description',
  'method',
  'url',
  'headers',
  'body',
  'inputSchema',
  'timeoutMs',
  'maxResponseBytes',
  'maxRedirects',
] as const;

/** Keeps only the tool's own fields of a user-supplied config (policy fields and the like are dropped). */
export function httpRequestConfig(config: Record<string, unknown>): HttpRequestToolConfig {
  const out: Record<string, unknown> = {};
  for (const k of HTTP_REQUEST_FIELDS) if (config[k] !== undefined) out[k] = config[k];
  return out as unknown as HttpRequestToolConfig;
}

export interface HttpToolResult {
  status: number;
  /** The final URL, after redirects. */
  url: string;
  headers: Record<string, string>;
  /** Parsed JSON when the answer says it is JSON; text otherwise. */
  body: unknown;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export const toolError = (status: number, code: string, message: string, retryable: boolean, details = {}) =>
  new AppError(status, code, message, { retryable, details });

interface Outgoing {
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function send(
  url: URL,
  target: ResolvedAddress,
  out: Outgoing,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        protocol: url.protocol,
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: out.method,
        headers: { ...out.headers, host: url.host },
        lookup: pinnedLookup(target),
        agent: false,
        signal,
      },
      resolve,
    );
    req.on('error', reject);
    req.end(out.body);
  });
}

async function readCapped(res: IncomingMessage, max: number, url: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  const tooLarge = () =>
    toolError(502, 'tool_response_too_large', `the answer from ${url} is larger than ${max} bytes`, false, {
      maxResponseBytes: max,
    });
  if (Number.isFinite(declared) && declared > max) {
    res.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > max) {
      res.destroy();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseBody(buf: Buffer, contentType: string | undefined): unknown {
  const text = buf.toString('utf8');
  if (contentType && /\bjson\b/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function render(config: HttpRequestToolConfig, input: unknown): { url: URL; out: Outgoing } {
  const method = renderText(config.method ?? 'GET', input).toUpperCase();
  if (!METHODS.has(method)) throw new TemplateError(`method ${method} is not allowed`);
  const url = new URL(renderUrl(config.url, input));
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TemplateError(`only http and https URLs are allowed, not ${url.protocol}`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.headers ?? {}))
    headers[k.toLowerCase()] = renderHeader(v, input);
  // The engine's trace position (W3C Trace Context), unless the tool's config sets its own.
  const traceparent = currentTraceparent();
  if (traceparent) headers.traceparent ??= traceparent;
  let body: string | undefined;
  if (config.body !== undefined && method !== 'GET' && method !== 'HEAD') {
    if (typeof config.body === 'string') body = renderText(config.body, input);
    else {
      body = JSON.stringify(renderJson(config.body, input));
      headers['content-type'] ??= 'application/json';
    }
  }
  return { url, out: { method, headers, body } };
}

/** Runs one request as the tool would (exported for the `tool` node, which runs tools without a model). */
export async function runHttpRequest(
  config: HttpRequestToolConfig,
  input: unknown,
  signal: AbortSignal,
  policy: OutboundPolicy = PUBLIC_ONLY,
): Promise<HttpToolResult> {
  let rendered: ReturnType<typeof render>;
  try {
    rendered = render(config, input);
  } catch (e) {
    throw toolError(400, 'tool_invalid_input', (e as Error).message, false);
  }
  let { url } = rendered;
  const out = rendered.out;
  const timeoutMs = config.timeoutMs ?? 10_000;
  const { signal: deadline, dispose } = withDeadline(signal, timeoutMs);
  const maxRedirects = config.maxRedirects ?? 5;
  try {
    for (let hop = 0; ; hop++) {
      const target = await checkedAddress(url.hostname, policy);
      const res = await send(url, target, out, deadline);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.resume();
        if (hop >= maxRedirects)
          throw toolError(
            502,
            'tool_http_failed',
            `more than ${maxRedirects} redirects from ${config.url}`,
            false,
          );
        const next = new URL(location, url);
        if (next.protocol !== 'http:' && next.protocol !== 'https:')
          throw toolError(502, 'tool_http_failed', `redirect to a ${next.protocol} URL refused`, false);
        if (status === 303 || ((status === 301 || status === 302) && out.method === 'POST')) {
          out.method = 'GET';
          out.body = undefined;
          delete out.headers['content-type'];
        }
        if (next.origin !== url.origin)
          for (const h of Object.keys(out.headers)) if (isCredentialHeader(h)) delete out.headers[h];
        url = next;
        continue;
      }
      const buf = await readCapped(res, config.maxResponseBytes ?? 1_048_576, url.href);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined && k !== 'set-cookie') headers[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status, url: url.href, headers, body: parseBody(buf, res.headers['content-type']) };
    }
  } catch (e) {
    if (signal.aborted) throw abortError(signal);
    if (e instanceof AppError) throw e;
    if (deadline.aborted)
      throw toolError(504, 'tool_timeout', `${url.host} did not answer within ${timeoutMs} ms`, true, {
        timeoutMs,
      });
    throw toolError(502, 'tool_http_failed', `request to ${url.host} failed: ${(e as Error).message}`, true);
  } finally {
    dispose();
  }
}

export function httpRequestTool(
  config: HttpRequestToolConfig,
  policy: OutboundPolicy = PUBLIC_ONLY,
): ModelTool {
  return {
    name: config.name ?? 'http_request',
    description:
      config.description ??
      `Sends an HTTP ${config.method ?? 'GET'} request to ${config.url} and returns the status, headers and body.`,
    inputSchema: config.inputSchema ?? { type: 'object', additionalProperties: true },
    execute: (input, signal) => runHttpRequest(config, input, signal, policy),
  };
}
