/**
 * Anthropic Messages API (`POST /v1/messages`), as in Anthropic's API reference: `x-api-key` header;
 * content blocks (`text`, `tool_use`); `usage.input_tokens` counts only uncached input, beside
 * `cache_read_input_tokens` and `cache_creation_input_tokens`; streaming as named SSE events
 * (`message_start`, `content_block_start|delta|stop`, `message_delta` with the output usage, `message_stop`).
 * Structured output: with `output_config.format` the answer is JSON text; when a tool is forced
 * (`tool_choice: {type: "tool"}`, the JSON-tool fallback) the answer is that tool's `tool_use` block.
 */
import {
  deltas,
  type FakeProviderOptions,
  type FakeProviderServer,
  type FakeReply,
  type FakeUsage,
  nextId,
  type RecordedRequest,
  startFakeProvider,
  type WireFormat,
} from './server.ts';

type Answer = Exclude<FakeReply, { kind: 'error' }>;
type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown };

function wireUsage(u: FakeUsage) {
  const cached = u.cachedInput ?? 0;
  const written = u.cacheWrite ?? 0;
  return {
    input_tokens: u.input - cached - written,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: u.output,
  };
}

function blocks(reply: Answer, req: RecordedRequest): Block[] {
  const forced = req.body.tool_choice as { type?: string; name?: string } | undefined;
  if (reply.kind === 'text' && forced?.type === 'tool' && forced.name)
    return [{ type: 'tool_use', id: nextId('toolu_'), name: forced.name, input: JSON.parse(reply.text) }];
  const out: Block[] = [];
  const text = reply.kind === 'text' ? reply.text : reply.text;
  if (text) out.push({ type: 'text', text });
  if (reply.kind === 'tool-calls')
    for (const c of reply.calls)
      out.push({ type: 'tool_use', id: c.id ?? nextId('toolu_'), name: c.name, input: c.input });
  return out;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const anthropicWireFormat: WireFormat = {
  matches: (req) => req.method === 'POST' && req.path === '/v1/messages',
  isStream: (req) => req.body.stream === true,
  keyOf: (req) => (typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : undefined),
  unauthorizedMessage: () => 'invalid x-api-key',
  json(reply, req, usage) {
    const content = blocks(reply, req);
    const u = usage ? wireUsage(usage) : undefined;
    return {
      usage: u,
      body: {
        id: nextId('msg_'),
        type: 'message',
        role: 'assistant',
        model: req.body.model,
        content,
        stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
        stop_sequence: null,
        ...(u ? { usage: { ...u, service_tier: 'standard' } } : {}),
      },
    };
  },
  stream(reply, req, usage) {
    const content = blocks(reply, req);
    const u = usage ? wireUsage(usage) : undefined;
    const events: { event: string; data: unknown }[] = [];
    const ev = (event: string, data: Record<string, unknown>) =>
      events.push({ event, data: { type: event, ...data } });
    ev('message_start', {
      message: {
        id: nextId('msg_'),
        type: 'message',
        role: 'assistant',
        model: req.body.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        ...(u ? { usage: { ...u, output_tokens: 1 } } : {}),
      },
    });
    content.forEach((b, index) => {
      if (b.type === 'text') {
        ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const d of deltas(b.text))
          ev('content_block_delta', { index, delta: { type: 'text_delta', text: d } });
      } else {
        ev('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
        });
        for (const d of deltas(JSON.stringify(b.input), 3))
          ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: d } });
      }
      ev('content_block_stop', { index });
    });
    ev('message_delta', {
      delta: {
        stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
        stop_sequence: null,
      },
      ...(u ? { usage: u } : {}),
    });
    ev('message_stop', {});
    return { events, usage: u };
  },
  error: (status, message) => ({
    type: 'error',
    error: { type: ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message },
    request_id: nextId('req_'),
  }),
};

export function startFakeAnthropic(options: FakeProviderOptions = {}): Promise<FakeProviderServer> {
  return startFakeProvider(anthropicWireFormat, '/v1', options);
}
