import { timingSafeEqual } from 'node:crypto';
import { hookParamsSchema, hookResponseSchema } from '@aiops/contracts';
import { AppError, type SecretBox } from '@aiops/core';
import { workflowTriggers } from '@aiops/db';
import { FINAL } from '@aiops/engine';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import type { ModuleDeps } from '../../module.ts';
import type { TriggerRow } from './firing.ts';
import { hookCacheOf } from './hook-cache.ts';
import { triggerAad } from './service.ts';
import { WebhookFirer } from './webhook-fire.ts';

/** Largest webhook body accepted (JSON, form or text). */
export const HOOK_BODY_LIMIT = 1_048_576;

/** Headers kept in what the input mapping sees (`input.headers`): never credentials or signatures. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'webhook-signature', 'x-api-key']);

const fail = (status: number, code: string, message: string) => new AppError(status, code, message);

function parseBody(raw: string, contentType: string | undefined): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (!raw.length) return {};
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(raw);
    } catch (e) {
      throw fail(400, 'invalid_json', `The body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      const had = out[k];
      out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    return out;
  }
  if (type.startsWith('text/') || type === '') return raw;
  throw fail(
    415,
    'unsupported_media_type',
    `Content-Type ${type} is not accepted: send application/json, application/x-www-form-urlencoded or text/plain`,
  );
}

function verify(trigger: TriggerRow, secrets: SecretBox, raw: string, request: FastifyRequest): void {
  if (trigger.webhookAuth === 'none') return;
  const secret = secrets.decrypt(trigger.secretEncrypted!, triggerAad(trigger.id));
  if (trigger.webhookAuth === 'bearer') {
    const header = request.headers.authorization ?? '';
    const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
    const want = Buffer.from(secret);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      throw fail(
        401,
        'invalid_token',
        'Missing or wrong bearer token: send Authorization: Bearer <hook token>',
      );
    }
    return;
  }
  const h = request.headers;
  const headers = {
    'webhook-id': String(h['webhook-id'] ?? ''),
    'webhook-timestamp': String(h['webhook-timestamp'] ?? ''),
    'webhook-signature': String(h['webhook-signature'] ?? ''),
  };
  if (!headers['webhook-id'] || !headers['webhook-timestamp'] || !headers['webhook-signature']) {
    throw fail(
      401,
      'invalid_signature',
      'Missing Standard Webhooks headers: send webhook-id, webhook-timestamp and webhook-signature',
    );
  }
  try {
    new Webhook(secret).verify(raw, headers);
  } catch (e) {
    if (!(e instanceof WebhookVerificationError)) throw e;
    const why = e.message.includes('timestamp')
      ? `${e.message}: webhook-timestamp must be within 5 minutes of the server's clock`
      : `${e.message}: the signature does not match this hook's secret and the exact body sent`;
    throw fail(401, 'invalid_signature', why);
  }
}

/**
 * `POST /hooks/:hookId`: a webhook trigger's own URL. No session or API key: the hook id is unguessable and
 * the request is checked by the trigger's method (Standard Webhooks signature, bearer token, or none). The
 * body is read raw (so the signature is over the exact bytes), then parsed by content type.
 */
export const hookRoutes =
  (deps: ModuleDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: HOOK_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );
    const firer = new WebhookFirer({ db: deps.db, runs: deps.engine.runs, log: app.log });
    const hooks = hookCacheOf(deps.db);
    // Listening starts while the app is built (as the API-key cache's does), not from an onReady hook.
    await hooks.start(deps.db);
    app.addHook('onClose', async () => {
      await firer.drain();
      await hooks.stop();
    });
    app.post(
      '/hooks/:hookId',
      {
        bodyLimit: HOOK_BODY_LIMIT,
        config: { permission: 'public', audit: false, anonymousRateLimit: false },
        schema: {
          tags: ['triggers'],
          summary:
            "A webhook trigger's URL: starts a run of its workflow (async 202, or sync with the output)",
          params: hookParamsSchema,
          response: { 200: hookResponseSchema, 202: hookResponseSchema },
        },
      },
      async (request, reply) => {
        const raw = typeof request.body === 'string' ? request.body : '';
        const hookId = request.params.hookId;
        const trigger = await hooks.get(hookId, async () => {
          const [row] = await deps.db.system((tx) =>
            tx.select().from(workflowTriggers).where(eq(workflowTriggers.hookId, hookId)),
          );
          return row;
        });
        if (trigger?.type !== 'webhook') {
          throw fail(404, 'not_found', 'No webhook trigger has this URL');
        }
        if (trigger.rateLimitPerMinute !== null) {
          await deps.rateLimits.consumeHook(trigger.id, trigger.rateLimitPerMinute, reply);
        }
        verify(trigger, deps.secrets, raw, request);
        if (!trigger.enabled) throw fail(409, 'trigger_disabled', 'This webhook trigger is disabled');
        const body = parseBody(raw, request.headers['content-type']);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(request.headers)) {
          if (!HIDDEN_HEADERS.has(k) && typeof v === 'string') headers[k] = v.slice(0, 2000);
        }
        const deliveryId = request.headers['webhook-id'] ?? request.headers['idempotency-key'];
        const delivery = typeof deliveryId === 'string' && deliveryId ? deliveryId.slice(0, 255) : undefined;
        const started = Date.now();
        const result = await firer.fire({
          trigger,
          payload: { body, headers, query: request.query ?? {}, method: request.method },
          defaultInput: body !== null && typeof body === 'object' && !Array.isArray(body) ? body : { body },
          triggeredBy: 'webhook',
          externalTriggerId: delivery ?? trigger.id,
          ...(delivery ? { deliveryId: delivery } : {}),
        });
        if (result.duplicate) {
          throw new AppError(
            409,
            'replayed',
            `webhook-id ${delivery} was already received; it is not run twice`,
            {
              details: { firingId: result.firingId, runId: result.runId },
            },
          );
        }
        if (result.status === 'skipped') {
          const busy = result.reason?.includes('already active');
          throw new AppError(
            busy ? 429 : 409,
            busy ? 'trigger_busy' : 'workflow_inactive',
            result.reason ?? '',
            {
              retryable: busy ?? false,
              details: { firingId: result.firingId },
            },
          );
        }
        if (result.status === 'failed') {
          throw new AppError(422, 'run_not_started', result.reason ?? 'the run did not start', {
            details: { firingId: result.firingId },
          });
        }
        const base = { runId: result.runId, status: result.status, firingId: result.firingId };
        if (result.runId) reply.header('location', `/api/v1/runs/${result.runId}`);
        if (trigger.webhookMode !== 'sync' || !result.runId) return reply.status(202).send(base);
        const run = await deps.engine.watcher.waitForFinal(
          trigger.organizationId,
          result.runId,
          trigger.syncTimeoutMs ?? 30_000,
          started,
        );
        if (!FINAL.includes(run.status)) return reply.status(202).send({ ...base, status: run.status });
        return reply.status(200).send({ ...base, status: run.status, output: run.outputData ?? null });
      },
    );
  };
