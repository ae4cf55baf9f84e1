/**
 * `POST /v1/chat/completions`: the request through the organization's targets in order (the app's model
 * port: integrations, prices, response cache, budget check), answered as one `chat.completion` or as
 * `chat.completion.chunk` events; then the call's usage, spend, integration counters and trace
 * (records.ts: after the answer when it succeeded, before the error when it failed).
 */
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { isAppError, type ModelPort, type ModelRequest, type ModelResult } from '@aiops/core';
import type { Database } from '@aiops/db';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { type AttemptSpan, type GatewayCall, newTraceId, type Recorder } from './records.ts';
import { resolveRoute, shouldFallBack } from './routing.ts';
import {
  type ChatBody,
  chunk,
  completionBody,
  errorType,
  finishReasonOf,
  toChatMessages,
  toClientTools,
  wireToolCalls,
  wireUsage,
} from './wire.ts';

export interface GatewayDeps {
  db: Database;
  model: ModelPort;
  recorder: Recorder;
}

/** `x-aiops-cache-ttl: <seconds>` opts one request into the response cache (an alias may set it for all). */
function cacheTtlOf(request: FastifyRequest, fromAlias: number | undefined): number | undefined {
  const h = request.headers['x-aiops-cache-ttl'];
  if (typeof h === 'string' && /^\d{1,7}$/.test(h) && Number(h) > 0) return Number(h) * 1000;
  return fromAlias;
}

const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

export async function chatCompletions(
  deps: GatewayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: ChatBody,
) {
  const auth = authOf(request);
  const route = await resolveRoute(deps.db, auth.organizationId, body.model, body.models);
  const messages = toChatMessages(body);
  const tools = toClientTools(body);
  const abort = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort(new Error('the client closed the connection'));
  });
  const call: GatewayCall = {
    id: randomUUID(),
    traceId: newTraceId(),
    organizationId: auth.organizationId,
    apiKeyId: auth.apiKeyId,
    requested: body.model,
    kind: 'chat',
    startedAt: new Date(),
    attempts: [],
    streamed: body.stream === true,
  };
  const id = `chatcmpl-${call.id.replaceAll('-', '')}`;
  const created = Math.floor(call.startedAt.getTime() / 1000);
  reply.header('x-aiops-trace-id', call.traceId);
  const cacheTtlMs = cacheTtlOf(request, route.cacheTtlMs);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const base: Omit<ModelRequest, 'model'> = {
    messages,
    ...(tools ? { clientTools: tools, maxSteps: 1 } : {}),
    ...(body.temperature != null ? { temperature: body.temperature } : {}),
    ...(body.top_p != null ? { topP: body.top_p } : {}),
    ...(maxTokens ? { maxTokens } : {}),
    ...(body.response_format?.type === 'json_schema' && body.response_format.json_schema?.schema
      ? { outputSchema: body.response_format.json_schema.schema }
      : {}),
    attempt: 1,
    idempotencyKey: `gateway:${call.id}`,
    organizationId: auth.organizationId,
    signal: abort.signal,
    ...(route.budgetUsd !== undefined ? { budgetUsd: route.budgetUsd } : {}),
    ...(cacheTtlMs ? { cacheTtlMs } : {}),
    // the integration's counters go in the call's records (records.ts), one transaction for all
    countUsage: false,
  };

  // Streaming: the answer starts with the first token (or the whole answer), so a failure before it is
  // still an HTTP error the client's error classes see, and a failure after it an `error` event.
  let stream: PassThrough | undefined;
  const start = () => {
    if (stream) return stream;
    stream = new PassThrough();
    reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache');
    void reply.send(stream);
    stream.write(sse(chunk(id, body.model, created, { role: 'assistant', content: '' })));
    return stream;
  };
  const onToken = body.stream
    ? (delta: string) => {
        start().write(sse(chunk(id, body.model, created, { content: delta })));
      }
    : undefined;

  let result: ModelResult | undefined;
  let failure: unknown;
  for (const [i, target] of route.targets.entries()) {
    const attempt: AttemptSpan = { model: target.model, startedAt: new Date(), endedAt: new Date() };
    if (target.integrationId) attempt.integrationId = target.integrationId;
    call.attempts.push(attempt);
    try {
      result = await deps.model.call({
        ...base,
        model: target.model,
        attempt: i + 1,
        ...(target.integrationId ? { integrationId: target.integrationId } : {}),
        ...(onToken ? { onToken } : {}),
      });
      attempt.endedAt = new Date();
      attempt.result = result;
      if (result.integrationId) attempt.integrationId = result.integrationId;
      break;
    } catch (e) {
      attempt.endedAt = new Date();
      attempt.error = isAppError(e)
        ? { code: e.code, message: e.message }
        : { code: 'internal', message: (e as Error).message };
      failure = e;
      // once tokens went out, another model cannot take over the answer
      if (stream || abort.signal.aborted || !shouldFallBack(e)) break;
    }
  }
  if (!result) {
    await deps.recorder.record(call, new Date());
    if (!stream) throw failure;
    const e = isAppError(failure) ? failure : undefined;
    stream.end(
      sse({
        error: {
          message: e?.message ?? 'the model failed while answering',
          type: errorType(e?.status ?? 500, e?.code ?? 'internal'),
          param: null,
          code: e?.code ?? 'internal',
        },
      }),
    );
    return reply;
  }
  // answered first, recorded meanwhile (records.ts)
  void deps.recorder.record(call, new Date());
  if (!stream) {
    reply.header('x-aiops-cache', result.cached ? 'hit' : 'miss');
    reply.header('x-aiops-model', call.attempts.at(-1)!.model);
  }
  if (!body.stream) return completionBody(id, body.model, result);

  // the tokens may all have come from the cache in one piece, or none at all (a tool call)
  const out = start();
  const calls = wireToolCalls(result.toolCalls);
  if (calls.length)
    out.write(
      sse(
        chunk(id, body.model, created, {
          tool_calls: calls.map((c, index) => ({ index, ...c })),
        }),
      ),
    );
  out.write(sse(chunk(id, body.model, created, {}, { finish_reason: finishReasonOf(result) })));
  if (body.stream_options?.include_usage)
    out.write(sse(chunk(id, body.model, created, undefined, { usage: wireUsage(result) })));
  out.end(sse('[DONE]'));
  return reply;
}
