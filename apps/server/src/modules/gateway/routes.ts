/**
 * The OpenAI-compatible gateway at `/v1` (the paths OpenAI's clients call, outside /api/v1): chat
 * completions, embeddings and the model list, for API keys (or members) with the `gateway` permission.
 * Authentication and the key's rate limit are the app's (config.permission); errors leave in OpenAI's
 * error body (`{ error: { message, type, param, code } }`) so the clients raise their own error classes.
 */
import type { ErrorBody } from '@aiops/contracts';
import { createEmbeddingPort } from '@aiops/providers';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authOf } from '../../http/auth.ts';
import type { ModuleDeps } from '../../module.ts';
import { integrationResolver } from '../integrations/model-port.ts';
import { chatCompletions } from './chat.ts';
import { createEmbeddings } from './embeddings.ts';
import { listModels } from './models.ts';
import { Recorder } from './records.ts';
import { chatBodySchema, embeddingsBodySchema, errorType } from './wire.ts';

export const GATEWAY_PREFIX = '/v1';

/** Our error body → OpenAI's; a spent budget answers 429 `insufficient_quota` as OpenAI's API does. */
function toOpenAIError(status: number, payload: string): { status: number; body: string } | undefined {
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(payload) as ErrorBody;
  } catch {
    return undefined;
  }
  const e = parsed?.error;
  if (!e || typeof e.code !== 'string') return undefined;
  const issues = (e.details?.issues as { path?: string }[] | undefined) ?? [];
  const param = issues[0]?.path?.replace(/^body\./, '') ?? null;
  const out = e.code === 'budget_exceeded' ? 429 : status;
  return {
    status: out,
    body: JSON.stringify({
      error: { message: e.message, type: errorType(out, e.code), param, code: e.code },
    }),
  };
}

export const gatewayRoutes =
  (deps: ModuleDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const embeddings = createEmbeddingPort({
      resolveIntegration: integrationResolver(deps.db, deps.secrets, deps.settings.privateNetworkCategories),
    });
    const recorder = new Recorder(deps.db, (err, call) =>
      app.log.error({ err, callId: call.id }, 'gateway call not recorded'),
    );
    // calls answered but still being recorded are written before the database closes
    app.addHook('onClose', () => recorder.drain());
    app.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
      const mapped = toOpenAIError(reply.statusCode, payload);
      if (!mapped) return payload;
      reply.status(mapped.status);
      // the client should not retry a refusal that retrying cannot change
      if (mapped.status === 429 && !reply.getHeader('retry-after')) reply.header('x-should-retry', 'false');
      return mapped.body;
    });
    const tags = ['gateway'];
    app.post(
      '/chat/completions',
      {
        bodyLimit: 16 * 1024 * 1024,
        // usage, not a change: the call is in the usage ledger and its trace
        config: { permission: 'gateway', audit: false },
        schema: {
          tags,
          summary: 'OpenAI-compatible chat completion (streaming with `stream: true`)',
          body: chatBodySchema,
        },
      },
      (request, reply) =>
        chatCompletions({ db: deps.db, model: deps.engine.model, recorder }, request, reply, request.body),
    );
    app.post(
      '/embeddings',
      {
        bodyLimit: 16 * 1024 * 1024,
        // usage, not a change: the call is in the usage ledger and its trace
        config: { permission: 'gateway', audit: false },
        schema: { tags, summary: 'OpenAI-compatible embeddings', body: embeddingsBodySchema },
      },
      (request, reply) =>
        createEmbeddings(
          { db: deps.db, embeddings, priceOverrides: deps.prices.lookup, recorder },
          request,
          reply,
          request.body,
        ),
    );
    app.get(
      '/models',
      {
        config: { permission: 'gateway' },
        schema: { tags, summary: 'Models and aliases this key can call' },
      },
      (request) => listModels(deps.db, authOf(request).organizationId),
    );
  };
