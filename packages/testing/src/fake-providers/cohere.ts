/**
 * Cohere Chat API v2 (`POST /v2/chat`), as in Cohere's API reference: bearer key; `message.content[]` text
 * parts, `message.tool_plan` and `message.tool_calls[]`; `finish_reason` `COMPLETE` or `TOOL_CALL`; usage
 * with both `tokens` (what the model processed, prompt template included) and `billed_units` (what is
 * charged), plus `cached_tokens`; streaming as typed events (`message-start`, `content-delta`,
 * `tool-call-start|delta|end`, `message-end` carrying the usage).
 */
import {
  bearer,
  deltas,
  type FakeProviderOptions,
  type FakeProviderServer,
  type FakeReply,
  type FakeUsage,
  nextId,
  startFakeProvider,
  type WireFormat,
} from './server.ts';

type Answer = Exclude<FakeReply, { kind: 'error' }>;

/** Tokens of Cohere's own prompt template: counted in `tokens`, never billed. */
export const COHERE_TEMPLATE_TOKENS = 495;

function wireUsage(u: FakeUsage) {
  return {
    billed_units: { input_tokens: u.input, output_tokens: u.output },
    tokens: { input_tokens: u.input + COHERE_TEMPLATE_TOKENS, output_tokens: u.output + 3 },
    cached_tokens: u.cachedInput ?? 0,
  };
}

function calls(reply: Answer) {
  return reply.kind === 'tool-calls'
    ? reply.calls.map((c) => ({
        id: c.id ?? nextId(`${c.name}_`),
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.input) },
      }))
    : [];
}

export const cohereWireFormat: WireFormat = {
  matches: (req) => req.method === 'POST' && req.path === '/v2/chat',
  isStream: (req) => req.body.stream === true,
  keyOf: bearer,
  unauthorizedMessage: () => 'invalid api token',
  json(reply, _req, usage) {
    const u = usage ? wireUsage(usage) : undefined;
    const toolCalls = calls(reply);
    const text = reply.kind === 'text' ? reply.text : reply.text;
    return {
      usage: u,
      body: {
        id: crypto.randomUUID(),
        message: {
          role: 'assistant',
          ...(text && !toolCalls.length ? { content: [{ type: 'text', text }] } : {}),
          ...(toolCalls.length ? { tool_plan: text ?? 'I will call the tools.', tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls.length ? 'TOOL_CALL' : 'COMPLETE',
        ...(u ? { usage: u } : {}),
      },
    };
  },
  stream(reply, _req, usage) {
    const u = usage ? wireUsage(usage) : undefined;
    const events: { event: string; data: unknown }[] = [];
    const ev = (type: string, data: Record<string, unknown>) =>
      events.push({ event: type, data: { type, ...data } });
    ev('message-start', {
      id: crypto.randomUUID(),
      delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } },
    });
    const toolCalls = calls(reply);
    const text = reply.kind === 'text' ? reply.text : (reply.text ?? '');
    if (toolCalls.length) {
      for (const d of deltas(text || 'I will call the tools.'))
        ev('tool-plan-delta', { delta: { message: { tool_plan: d } } });
      toolCalls.forEach((c, index) => {
        ev('tool-call-start', {
          index,
          delta: {
            message: {
              tool_calls: { id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } },
            },
          },
        });
        for (const d of deltas(c.function.arguments, 3))
          ev('tool-call-delta', {
            index,
            delta: { message: { tool_calls: { function: { arguments: d } } } },
          });
        ev('tool-call-end', { index });
      });
    } else {
      ev('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } });
      for (const d of deltas(text))
        ev('content-delta', { index: 0, delta: { message: { content: { text: d } } } });
      ev('content-end', { index: 0 });
    }
    ev('message-end', {
      delta: { finish_reason: toolCalls.length ? 'TOOL_CALL' : 'COMPLETE', ...(u ? { usage: u } : {}) },
    });
    return { events, usage: u };
  },
  error: (_status, message) => ({ id: crypto.randomUUID(), message }),
};

export function startFakeCohere(options: FakeProviderOptions = {}): Promise<FakeProviderServer> {
  return startFakeProvider(cohereWireFormat, '/v2', options);
}
