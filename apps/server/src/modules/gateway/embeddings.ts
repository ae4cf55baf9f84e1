/**
 * `POST /v1/embeddings`: texts through the organization's embedding integrations (the targets in order,
 * as for chat), priced from the catalog and the organization's overrides, recorded like a chat call.
 */
import { randomUUID } from 'node:crypto';
import { badRequest, type EmbeddingPort, isAppError, type ModelResult } from '@aiops/core';
import type { Database } from '@aiops/db';
import { costOf, type ModelPrice, PRICE_CATALOG, priceFor } from '@aiops/providers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { type AttemptSpan, type GatewayCall, newTraceId, type Recorder } from './records.ts';
import { resolveRoute, shouldFallBack } from './routing.ts';
import { type EmbeddingsBody, encodeEmbedding } from './wire.ts';

export interface EmbeddingDeps {
  db: Database;
  embeddings: EmbeddingPort;
  priceOverrides: (organizationId: string) => Promise<readonly ModelPrice[]>;
  recorder: Recorder;
}

export async function createEmbeddings(
  deps: EmbeddingDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: EmbeddingsBody,
) {
  if (body.dimensions !== undefined)
    throw badRequest('dimensions is not supported by the gateway: omit it to get the model’s own size', {
      issues: [{ path: 'body.dimensions', message: 'not supported' }],
    });
  const auth = authOf(request);
  const route = await resolveRoute(deps.db, auth.organizationId, body.model);
  const texts = typeof body.input === 'string' ? [body.input] : body.input;
  const call: GatewayCall = {
    id: randomUUID(),
    traceId: newTraceId(),
    organizationId: auth.organizationId,
    apiKeyId: auth.apiKeyId,
    requested: body.model,
    kind: 'embeddings',
    startedAt: new Date(),
    attempts: [],
    streamed: false,
  };
  reply.header('x-aiops-trace-id', call.traceId);
  const signal = AbortSignal.timeout(120_000);
  let vectors: number[][] | undefined;
  let failure: unknown;
  for (const target of route.targets) {
    const attempt: AttemptSpan = { model: target.model, startedAt: new Date(), endedAt: new Date() };
    call.attempts.push(attempt);
    try {
      const out = await deps.embeddings.embed({
        model: target.model,
        texts,
        organizationId: auth.organizationId,
        signal,
        ...(target.integrationId ? { integrationId: target.integrationId } : {}),
      });
      const usage = {
        inputTokens: out.tokens,
        outputTokens: 0,
        cachedInputTokens: 0,
        reasoningTokens: 0,
        totalTokens: out.tokens,
        estimated: false,
      };
      const price = priceFor(
        target.model,
        new Date(),
        await deps.priceOverrides(auth.organizationId),
        PRICE_CATALOG.models,
      );
      const cost = costOf(usage, price);
      const result: ModelResult = {
        text: '',
        model: target.model,
        usage,
        costUsd: cost.usd,
        costUsdDecimal: cost.usdDecimal,
        priced: price !== undefined,
        finishReason: 'stop',
        toolCalls: [],
        cached: false,
      };
      attempt.endedAt = new Date();
      attempt.result = result;
      vectors = out.embeddings;
      break;
    } catch (e) {
      attempt.endedAt = new Date();
      attempt.error = isAppError(e)
        ? { code: e.code, message: e.message }
        : { code: 'internal', message: (e as Error).message };
      failure = e;
      if (!shouldFallBack(e)) break;
    }
  }
  if (!vectors) {
    await deps.recorder.record(call, new Date());
    throw failure;
  }
  // answered first, recorded meanwhile (records.ts)
  void deps.recorder.record(call, new Date());
  const format = body.encoding_format ?? 'float';
  const tokens = call.attempts.at(-1)!.result!.usage.inputTokens;
  reply.header('x-aiops-model', call.attempts.at(-1)!.model);
  return {
    object: 'list' as const,
    data: vectors.map((v, index) => ({
      object: 'embedding' as const,
      index,
      embedding: encodeEmbedding(v, format),
    })),
    model: body.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
