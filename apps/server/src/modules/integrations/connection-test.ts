/**
 * `POST /integrations/:id/test`: one real call through the same AI SDK path agents use (a 1-token
 * completion), and the integration's status set from its outcome: `connected`, or `error` with
 * `last_error`. Messages come from the port's error mapping, which scrubs keys; they are scrubbed again
 * here with the integration's own key, so no secret reaches the row, the answer or the log.
 */
import { isAppError, type ModelResult, type SecretBox } from '@aiops/core';
import type { Database } from '@aiops/db';
import { createModelPort, type ResolvedIntegration, scrub } from '@aiops/providers';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { recordIntegrationUsage, resolvedOf } from './model-port.ts';
import * as repo from './repo.ts';
import { findOr404, toIntegrationDto } from './service.ts';

/** A small, cheap model per provider for the connection test when neither the request nor config names one. */
export const TEST_MODELS: Record<string, string | undefined> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
  google: 'gemini-2.0-flash',
  xai: 'grok-3-mini',
  cohere: 'command-r7b-12-2024',
  perplexity: 'sonar',
  ollama: undefined,
  'openai-compatible': undefined,
};

const TIMEOUT_MS = 20_000;

interface Outcome {
  ok: boolean;
  model: string | null;
  error: { code: string; message: string } | null;
  result?: ModelResult;
}

async function callOnce(
  resolved: ResolvedIntegration,
  model: string,
  organizationId: string,
  key: string,
): Promise<Outcome> {
  const port = createModelPort({ resolveIntegration: () => resolved });
  try {
    const result = await port.call({
      model,
      prompt: 'Reply with the single word OK.',
      maxTokens: 1,
      attempt: 1,
      idempotencyKey: key,
      organizationId,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return { ok: true, model, error: null, result };
  } catch (e) {
    return { ok: false, model, error: errorOf(e, resolved.apiKey) };
  }
}

function errorOf(e: unknown, apiKey: string | undefined): { code: string; message: string } {
  const code = isAppError(e) ? e.code : 'provider_unavailable';
  const message = isAppError(e) ? e.message : 'the provider could not be reached';
  return { code, message: scrub(message, [apiKey]).slice(0, 2000) };
}

export async function testIntegration(
  request: FastifyRequest,
  db: Database,
  secrets: SecretBox,
  id: string,
  body: { model?: string | undefined },
) {
  const auth = authOf(request);
  const started = Date.now();
  // Resolve in one short transaction; the provider call holds no transaction open.
  const prepared = await tenant(request, async (tx) => {
    const row = await findOr404(tx, id);
    try {
      return { row, resolved: await resolvedOf(tx, secrets, row, request.server.privateNetworkCategories) };
    } catch (e) {
      return { row, failed: errorOf(e, undefined) };
    }
  });
  const { row } = prepared;
  const modelName =
    body.model ??
    (typeof row.config.testModel === 'string' ? row.config.testModel : TEST_MODELS[row.provider]);
  let outcome: Outcome;
  if (prepared.failed) outcome = { ok: false, model: null, error: prepared.failed };
  else if (!modelName)
    outcome = {
      ok: false,
      model: null,
      error: {
        code: 'provider_invalid_request',
        message: `name a model to test ${row.provider} with: body.model or config.testModel`,
      },
    };
  else
    outcome = await callOnce(
      prepared.resolved!,
      `${row.provider}:${modelName}`,
      auth.organizationId,
      `integration-test:${id}:${request.id}`,
    );
  // The test call is a real, billed request: it counts in the integration's usage.
  if (outcome.result) await recordIntegrationUsage(db, auth.organizationId, outcome.result);

  const now = new Date();
  const saved = await tenant(request, async (tx) => {
    const before = await findOr404(tx, id);
    const after =
      (await repo.updateIntegration(tx, id, {
        status: outcome.ok ? 'connected' : 'error',
        lastError: outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : null,
        lastTestedAt: now,
        ...(outcome.ok && before.status !== 'connected' ? { connectedAt: now } : {}),
      })) ?? before;
    await audit(tx, request, {
      entityType: 'integration',
      entityId: id,
      action: 'tested',
      before: toIntegrationDto(before),
      after: toIntegrationDto(after),
      metadata: { ok: outcome.ok, model: outcome.model, errorCode: outcome.error?.code ?? null },
    });
    return after;
  });
  return {
    ok: outcome.ok,
    status: saved.status,
    model: outcome.model,
    latencyMs: Date.now() - started,
    error: outcome.error,
    integration: toIntegrationDto(saved),
  };
}
