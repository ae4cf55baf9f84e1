/**
 * The harness every fake provider server shares: a real HTTP server on 127.0.0.1 that answers each request
 * with the next scripted reply, rendered in that provider's wire format, and records what it received and
 * the usage it reported.
 *
 * Glossary:
 * - reply: what the "model" should do next (answer text, call tools, fail), independent of the provider.
 * - exchange: one request received and what was answered, including the usage object as sent on the wire.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Token counts in the AI SDK's sense: input includes cached, output includes reasoning. */
export interface FakeUsage {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export interface FakeToolCall {
  id?: string;
  name: string;
  input: unknown;
}

export type FakeReply =
  /** `usage: null` answers without any usage (the port must then estimate). */
  | { kind: 'text'; text: string; usage?: FakeUsage | null; delayMs?: number }
  | { kind: 'tool-calls'; calls: FakeToolCall[]; text?: string; usage?: FakeUsage | null; delayMs?: number }
  | { kind: 'error'; status: number; headers?: Record<string, string>; message?: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface Exchange {
  request: RecordedRequest;
  status: number;
  streamed: boolean;
  /** The usage object exactly as the server put it on the wire (the last one, when streamed). */
  wireUsage?: unknown;
}

/** What one provider's wire format must provide. */
export interface WireFormat {
  /** True when this request is one the provider's API would answer here. */
  matches(req: RecordedRequest): boolean;
  isStream(req: RecordedRequest): boolean;
  /** A JSON answer: body and the usage object inside it. */
  json(
    reply: Exclude<FakeReply, { kind: 'error' }>,
    req: RecordedRequest,
    usage: FakeUsage | null,
  ): WireAnswer;
  /** Server-sent events: each event's optional name and data object. */
  stream(
    reply: Exclude<FakeReply, { kind: 'error' }>,
    req: RecordedRequest,
    usage: FakeUsage | null,
  ): WireStream;
  error(status: number, message: string): unknown;
  /** The API key a request carries (from the header this provider uses). */
  keyOf(req: RecordedRequest): string | undefined;
  /** The provider's message when the key is wrong. */
  unauthorizedMessage?(sentKey: string): string;
  /** The status the provider answers a wrong key with (401 unless it says otherwise). */
  unauthorizedStatus?: number;
  /**
   * Requests answered from the request alone, without taking a scripted reply (OpenAI's embeddings): the
   * body and its usage, or undefined when this is not such a request. A scripted error at the head of
   * the queue is answered instead (to test a failing embeddings call).
   */
  direct?(req: RecordedRequest): WireAnswer | undefined;
}

export interface FakeProviderOptions {
  /** When set, a request without exactly this key gets the provider's 401. */
  apiKey?: string;
}

export interface WireAnswer {
  body: unknown;
  usage?: unknown;
}
export interface WireStream {
  events: { event?: string; data: unknown }[];
  /** A terminator line some providers send after the last event (OpenAI: `data: [DONE]`). */
  done?: string;
  usage?: unknown;
}

export interface FakeProviderServer {
  /** Base URL to configure the provider with (e.g. `http://127.0.0.1:PORT/v1`). */
  readonly baseUrl: string;
  readonly exchanges: Exchange[];
  /** Queue replies; each request takes the next one. */
  reply(...replies: FakeReply[]): void;
  /** The reply to give when the queue is empty (benchmarks); none by default (then 500). */
  replyByDefault(reply: FakeReply | undefined): void;
  close(): Promise<void>;
}

/** The bearer token of an `Authorization` header. */
export function bearer(req: RecordedRequest): string | undefined {
  const h = req.headers.authorization;
  return typeof h === 'string' && h.startsWith('Bearer ') ? h.slice(7) : undefined;
}

/** A deterministic usage from the sizes of what was sent and answered, for replies that name none. */
function defaultUsage(req: RecordedRequest, reply: Exclude<FakeReply, { kind: 'error' }>): FakeUsage {
  const answer = reply.kind === 'text' ? reply.text : JSON.stringify(reply.calls) + (reply.text ?? '');
  return {
    input: Math.ceil(JSON.stringify(req.body).length / 4),
    output: Math.max(1, Math.ceil(answer.length / 4)),
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startFakeProvider(
  format: WireFormat,
  prefix: string,
  options: FakeProviderOptions = {},
): Promise<FakeProviderServer> {
  const queue: FakeReply[] = [];
  const exchanges: Exchange[] = [];
  let fallback: FakeReply | undefined;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        headers: req.headers,
        body: await readBody(req),
      };
      const exchange: Exchange = { request: recorded, status: 200, streamed: false };
      exchanges.push(exchange);
      const direct = format.direct?.(recorded);
      if (!direct && !format.matches(recorded)) {
        exchange.status = 404;
        send(res, 404, format.error(404, `no route ${recorded.method} ${recorded.path}`));
        return;
      }
      const sentKey = format.keyOf(recorded);
      if (options.apiKey !== undefined && sentKey !== options.apiKey) {
        exchange.status = format.unauthorizedStatus ?? 401;
        const message = format.unauthorizedMessage?.(sentKey ?? '') ?? 'invalid api key';
        send(res, exchange.status, format.error(exchange.status, message));
        return;
      }
      if (direct) {
        const failure = queue[0]?.kind === 'error' ? queue.shift() : undefined;
        if (failure?.kind === 'error') {
          exchange.status = failure.status;
          send(
            res,
            failure.status,
            format.error(failure.status, failure.message ?? `error ${failure.status}`),
          );
          return;
        }
        exchange.wireUsage = direct.usage;
        send(res, 200, direct.body);
        return;
      }
      const reply = queue.shift() ?? fallback;
      if (!reply) {
        exchange.status = 500;
        send(res, 500, format.error(500, 'fake server: no scripted reply left'));
        return;
      }
      if (reply.kind === 'error') {
        exchange.status = reply.status;
        send(
          res,
          reply.status,
          format.error(reply.status, reply.message ?? `error ${reply.status}`),
          reply.headers,
        );
        return;
      }
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      const usage = reply.usage === null ? null : (reply.usage ?? defaultUsage(recorded, reply));
      if (format.isStream(recorded)) {
        exchange.streamed = true;
        const s = format.stream(reply, recorded, usage);
        exchange.wireUsage = s.usage;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        for (const e of s.events) {
          res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`);
        }
        if (s.done) res.write(`data: ${s.done}\n\n`);
        res.end();
        return;
      }
      const a = format.json(reply, recorded, usage);
      exchange.wireUsage = a.usage;
      send(res, 200, a.body);
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: { message: String(e) } });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    exchanges,
    reply: (...replies) => {
      queue.push(...replies);
    },
    replyByDefault: (reply) => {
      fallback = reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Splits text into a few deltas, as a model streams it. */
export function deltas(text: string, pieces = 4): string[] {
  if (!text) return [];
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

let counter = 0;
/** A fresh id with a provider's prefix (`call_`, `toolu_`, ...). */
export function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}${counter.toString(36).padStart(6, '0')}`;
}
