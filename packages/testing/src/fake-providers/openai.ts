/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`), as in OpenAI's API reference, and the dialects of
 * it that xAI, Perplexity and Ollama's OpenAI-compatible endpoint speak:
 * - openai: `usage.prompt_tokens` includes `prompt_tokens_details.cached_tokens`; `completion_tokens`
 *   includes `completion_tokens_details.reasoning_tokens`; streamed usage only in a last chunk with empty
 *   `choices`, when `stream_options.include_usage` asked for it; `data: [DONE]` ends the stream.
 * - xai: the same, except that `completion_tokens` excludes reasoning tokens (xAI bills them on top).
 * - perplexity: `POST /chat/completions`; `citations` and `search_results` beside the choices; usage with
 *   `citation_tokens`, `num_search_queries`, `search_context_size`, in every streamed chunk.
 * - ollama: minimal usage (`prompt_tokens`, `completion_tokens`, `total_tokens`).
 * Besides chat, `POST /v1/embeddings` (openai and ollama dialects) answers at once, without a scripted
 * reply, with `fakeEmbedding` of each input.
 */
import {
  bearer,
  deltas,
  type FakeProviderOptions,
  type FakeProviderServer,
  type FakeReply,
  type FakeUsage,
  nextId,
  type RecordedRequest,
  startFakeProvider,
  type WireAnswer,
  type WireFormat,
} from './server.ts';

export type OpenAIDialect = 'openai' | 'xai' | 'perplexity' | 'ollama';

type Answer = Exclude<FakeReply, { kind: 'error' }>;

function wireUsage(dialect: OpenAIDialect, u: FakeUsage): Record<string, unknown> {
  const cached = u.cachedInput ?? 0;
  const reasoning = u.reasoning ?? 0;
  if (dialect === 'ollama')
    return { prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output };
  if (dialect === 'perplexity')
    return {
      prompt_tokens: u.input,
      completion_tokens: u.output,
      total_tokens: u.input + u.output,
      citation_tokens: 0,
      num_search_queries: 1,
      search_context_size: 'low',
      ...(reasoning ? { reasoning_tokens: reasoning } : {}),
    };
  const completion = dialect === 'xai' ? u.output - reasoning : u.output;
  return {
    prompt_tokens: u.input,
    completion_tokens: completion,
    total_tokens: u.input + completion + (dialect === 'xai' ? reasoning : 0),
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function modelOf(req: RecordedRequest): string {
  return typeof req.body.model === 'string' ? req.body.model : 'unknown';
}

function toolCalls(reply: Answer) {
  return reply.kind === 'tool-calls'
    ? reply.calls.map((c) => ({
        id: c.id ?? nextId('call_'),
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.input) },
      }))
    : undefined;
}

const SEARCH = {
  citations: ['https://example.org/a', 'https://example.org/b'],
  search_results: [
    { title: 'A', url: 'https://example.org/a', date: null },
    { title: 'B', url: 'https://example.org/b', date: null },
  ],
};

/** Dimensions of the fake's embeddings. */
export const FAKE_EMBEDDING_DIMENSIONS = 64;

/**
 * The fake's embedding of a text: its lower-cased letter trigrams hashed (FNV-1a) into 64 signed buckets,
 * L2-normalized. Deterministic, and unlike the simulator's word hashing, so a test can tell which path
 * embedded a text; texts that share words come out similar.
 */
export function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(FAKE_EMBEDDING_DIMENSIONS).fill(0);
  const t = ` ${text.toLowerCase().replace(/\s+/g, ' ')} `;
  for (let i = 0; i + 3 <= t.length; i++) {
    let h = 0x811c9dc5;
    for (let j = i; j < i + 3; j++) h = Math.imul(h ^ t.charCodeAt(j), 0x01000193) >>> 0;
    v[h % FAKE_EMBEDDING_DIMENSIONS]! += h & 0x100 ? 1 : -1;
  }
  const norm = Math.hypot(...v);
  return norm === 0 ? v.map((_, i) => (i === 0 ? 1 : 0)) : v.map((x) => x / norm);
}

/**
 * OpenAI's embeddings endpoint: `input` a string or strings; floats, or base64 float32 when
 * `encoding_format` is `base64` (the official client's default); a token per 4 characters of each input.
 */
function embeddings(req: RecordedRequest): WireAnswer {
  const input = req.body.input;
  const texts = Array.isArray(input) ? input.map(String) : [String(input ?? '')];
  const tokens = texts.reduce((n, t) => n + Math.max(1, Math.ceil(t.length / 4)), 0);
  const usage = { prompt_tokens: tokens, total_tokens: tokens };
  const base64 = req.body.encoding_format === 'base64';
  const encode = (v: number[]) => (base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v);
  return {
    usage,
    body: {
      object: 'list',
      data: texts.map((t, index) => ({ object: 'embedding', index, embedding: encode(fakeEmbedding(t)) })),
      model: modelOf(req),
      usage,
    },
  };
}

export function openAIWireFormat(dialect: OpenAIDialect = 'openai'): WireFormat {
  const path = dialect === 'perplexity' ? '/chat/completions' : '/v1/chat/completions';
  return {
    direct: (req) =>
      req.method === 'POST' && req.path === '/v1/embeddings' && dialect !== 'perplexity' && dialect !== 'xai'
        ? embeddings(req)
        : undefined,
    matches: (req) => req.method === 'POST' && req.path === path,
    isStream: (req) => req.body.stream === true,
    json(reply, req, usage) {
      const calls = toolCalls(reply);
      const text = reply.kind === 'text' ? reply.text : (reply.text ?? null);
      const u = usage ? wireUsage(dialect, usage) : undefined;
      return {
        usage: u,
        body: {
          id: dialect === 'perplexity' ? crypto.randomUUID() : nextId('chatcmpl-'),
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: modelOf(req),
          ...(dialect === 'openai' ? { system_fingerprint: 'fp_fake', service_tier: 'default' } : {}),
          ...(dialect === 'perplexity' ? SEARCH : {}),
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: text,
                ...(calls ? { tool_calls: calls } : {}),
                ...(dialect === 'openai' ? { refusal: null, annotations: [] } : {}),
              },
              logprobs: null,
              finish_reason: calls ? 'tool_calls' : 'stop',
            },
          ],
          ...(u ? { usage: u } : {}),
        },
      };
    },
    stream(reply, req, usage) {
      const id = dialect === 'perplexity' ? crypto.randomUUID() : nextId('chatcmpl-');
      const created = Math.floor(Date.now() / 1000);
      const u = usage ? wireUsage(dialect, usage) : undefined;
      const usageEveryChunk = dialect === 'perplexity';
      const chunk = (choice: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) => ({
        id,
        object: 'chat.completion.chunk',
        created,
        model: modelOf(req),
        ...(dialect === 'perplexity' ? SEARCH : {}),
        choices: choice ? [{ index: 0, logprobs: null, finish_reason: null, ...choice }] : [],
        ...(usageEveryChunk && u ? { usage: u } : {}),
        ...extra,
      });
      const events: { data: unknown }[] = [{ data: chunk({ delta: { role: 'assistant', content: '' } }) }];
      const text = reply.kind === 'text' ? reply.text : (reply.text ?? '');
      for (const d of deltas(text)) events.push({ data: chunk({ delta: { content: d } }) });
      const calls = toolCalls(reply);
      calls?.forEach((c, index) => {
        events.push({
          data: chunk({
            delta: {
              tool_calls: [
                { index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } },
              ],
            },
          }),
        });
        for (const piece of deltas(c.function.arguments, 3))
          events.push({
            data: chunk({ delta: { tool_calls: [{ index, function: { arguments: piece } }] } }),
          });
      });
      events.push({ data: chunk({ delta: {}, finish_reason: calls ? 'tool_calls' : 'stop' }) });
      const includeUsage =
        dialect === 'xai' ||
        (req.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
      if (u && !usageEveryChunk && includeUsage) events.push({ data: chunk(undefined, { usage: u }) });
      return { events, done: '[DONE]', usage: u && (usageEveryChunk || includeUsage) ? u : undefined };
    },
    keyOf: bearer,
    unauthorizedMessage: dialect === 'openai' ? openAIUnauthorized : undefined,
    error(status, message) {
      if (dialect === 'perplexity') return { error: { code: status, message, type: errorType(status) } };
      return { error: { message, type: errorType(status), param: null, code: errorCode(status) } };
    },
  };
}

function errorType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}
function errorCode(status: number): string | null {
  if (status === 401) return 'invalid_api_key';
  if (status === 429) return 'rate_limit_exceeded';
  if (status === 404) return 'model_not_found';
  return null;
}

/** OpenAI's answer to a wrong key: 401 naming a masked form of the key that was sent. */
export function openAIUnauthorized(sentKey: string): string {
  return `Incorrect API key provided: ${sentKey.slice(0, 3)}${'*'.repeat(Math.max(4, sentKey.length - 7))}${sentKey.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
}

export function startFakeOpenAI(
  dialect: OpenAIDialect = 'openai',
  options: FakeProviderOptions = {},
): Promise<FakeProviderServer> {
  return startFakeProvider(openAIWireFormat(dialect), dialect === 'perplexity' ? '' : '/v1', options);
}
