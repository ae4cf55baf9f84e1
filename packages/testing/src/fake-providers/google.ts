/**
 * Google Gemini API (`POST /v1beta/models/{model}:generateContent`, and `:streamGenerateContent?alt=sse`),
 * as in Google's API reference: `x-goog-api-key` header; `candidates[].content.parts` with `text` or
 * `functionCall`; `usageMetadata.promptTokenCount` includes `cachedContentTokenCount`, and
 * `candidatesTokenCount` excludes `thoughtsTokenCount`; each streamed chunk is a whole response carrying
 * the usage so far. A wrong key answers 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`, as Google
 * does; 429 carries a `google.rpc.RetryInfo` detail with `retryDelay`.
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
const ROUTE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)(\?alt=sse)?$/;

function wireUsage(u: FakeUsage) {
  const reasoning = u.reasoning ?? 0;
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output - reasoning,
    totalTokenCount: u.input + u.output,
    ...(u.cachedInput ? { cachedContentTokenCount: u.cachedInput } : {}),
    ...(reasoning ? { thoughtsTokenCount: reasoning } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
  };
}

function modelOf(req: RecordedRequest): string {
  return ROUTE.exec(req.path)?.[1] ?? 'unknown';
}

function parts(reply: Answer): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const text = reply.kind === 'text' ? reply.text : reply.text;
  if (text) out.push({ text });
  if (reply.kind === 'tool-calls')
    for (const c of reply.calls) out.push({ functionCall: { name: c.name, args: c.input } });
  return out;
}

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Seconds Google's 429 asks the client to wait (in its RetryInfo detail). */
export const GOOGLE_RETRY_DELAY_SECONDS = 34.4;

export const googleWireFormat: WireFormat = {
  matches: (req) => req.method === 'POST' && ROUTE.test(req.path),
  isStream: (req) => req.path.includes(':streamGenerateContent'),
  keyOf: (req) =>
    typeof req.headers['x-goog-api-key'] === 'string' ? req.headers['x-goog-api-key'] : undefined,
  unauthorizedMessage: () => 'API key not valid. Please pass a valid API key.',
  unauthorizedStatus: 400,
  json(reply, req, usage) {
    const u = usage ? wireUsage(usage) : undefined;
    return {
      usage: u,
      body: {
        candidates: [{ content: { role: 'model', parts: parts(reply) }, finishReason: 'STOP', index: 0 }],
        ...(u ? { usageMetadata: u } : {}),
        modelVersion: modelOf(req),
        responseId: nextId('resp'),
      },
    };
  },
  stream(reply, req, usage) {
    const u = usage ? wireUsage(usage) : undefined;
    const responseId = nextId('resp');
    const chunk = (p: Record<string, unknown>[], last: boolean) => ({
      candidates: [
        { content: { role: 'model', parts: p }, ...(last ? { finishReason: 'STOP' } : {}), index: 0 },
      ],
      ...(u ? { usageMetadata: u } : {}),
      modelVersion: modelOf(req),
      responseId,
    });
    const events: { data: unknown }[] = [];
    const text = reply.kind === 'text' ? reply.text : (reply.text ?? '');
    for (const d of deltas(text)) events.push({ data: chunk([{ text: d }], false) });
    if (reply.kind === 'tool-calls')
      events.push({
        data: chunk(
          reply.calls.map((c) => ({ functionCall: { name: c.name, args: c.input } })),
          false,
        ),
      });
    events.push({ data: chunk([{ text: '' }], true) });
    return { events, usage: u };
  },
  error(status, message) {
    const details: unknown[] = [];
    if (status === 400 && message.startsWith('API key not valid'))
      details.push({
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
      });
    if (status === 429)
      details.push({
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay: `${GOOGLE_RETRY_DELAY_SECONDS}s`,
      });
    return { error: { code: status, message, status: STATUS[status] ?? 'UNKNOWN', details } };
  },
};

export function startFakeGoogle(options: FakeProviderOptions = {}): Promise<FakeProviderServer> {
  return startFakeProvider(googleWireFormat, '/v1beta', options);
}
