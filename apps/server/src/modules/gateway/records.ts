/**
 * The gateway's bookkeeping after each call: the usage ledger row (tokens and exact cost, with the API
 * key), the organization's monthly spend (what budgets are checked against), the integration's usage
 * counters, and the call's trace (a root span and one span per model attempt, fallbacks included).
 *
 * A successful call is answered first and recorded right after (`Recorder`), so the bookkeeping adds no
 * latency to the client's call; a failed one is recorded before its error is sent. Calls waiting to be
 * recorded are written together: one statement in one transaction per organization for all the calls
 * that arrived while the previous write was under way (at one call at a time, each call alone). The
 * transaction commits without waiting for the WAL flush (`asyncCommit`): a crash of the database server
 * in the next fraction of a second may lose the records of the last calls, never half of one.
 */
import { randomBytes } from 'node:crypto';
import type { ModelResult } from '@aiops/core';
import { type Database, queryRows } from '@aiops/db';
import { newSpanId } from '@aiops/engine';
import { sql } from 'drizzle-orm';
import { periodOf } from '../billing/ledger.ts';

export interface AttemptSpan {
  model: string;
  integrationId?: string;
  startedAt: Date;
  endedAt: Date;
  result?: ModelResult;
  error?: { code: string; message: string };
}

export interface GatewayCall {
  id: string;
  traceId: string;
  organizationId: string;
  apiKeyId: string | null;
  /** What the client asked for (an alias or `provider:model`). */
  requested: string;
  kind: 'chat' | 'embeddings';
  startedAt: Date;
  attempts: AttemptSpan[];
  streamed: boolean;
}

export const newTraceId = () => randomBytes(16).toString('hex');

const ms = (a: Date, b: Date) => (b.getTime() - a.getTime()).toFixed(3);

function spansOf(call: GatewayCall, endedAt: Date) {
  const ok = call.attempts.find((a) => a.result);
  const rootId = newSpanId();
  return [
    {
      trace_id: call.traceId,
      span_id: rootId,
      parent_span_id: null,
      name: `gateway ${call.kind} ${call.requested}`.slice(0, 500),
      kind: 'gateway',
      status: ok ? 'ok' : 'error',
      status_message: ok ? null : (call.attempts.at(-1)?.error?.message ?? null),
      start_time: call.startedAt.toISOString(),
      end_time: endedAt.toISOString(),
      duration_ms: ms(call.startedAt, endedAt),
      model: ok?.model ?? null,
      input_tokens: ok?.result?.usage.inputTokens ?? null,
      output_tokens: ok?.result?.usage.outputTokens ?? null,
      total_tokens: ok?.result?.usage.totalTokens ?? null,
      cost: ok?.result?.costUsdDecimal ?? null,
      attributes: {
        'aiops.gateway.call_id': call.id,
        'aiops.gateway.requested_model': call.requested,
        'aiops.gateway.streamed': call.streamed,
        ...(call.apiKeyId ? { 'aiops.api_key_id': call.apiKeyId } : {}),
      },
    },
    ...call.attempts.map((a, i) => ({
      trace_id: call.traceId,
      span_id: newSpanId(),
      parent_span_id: rootId,
      name: `model ${a.model}`.slice(0, 500),
      kind: 'model',
      status: a.result ? 'ok' : 'error',
      status_message: a.error ? `${a.error.code}: ${a.error.message}`.slice(0, 2000) : null,
      start_time: a.startedAt.toISOString(),
      end_time: a.endedAt.toISOString(),
      duration_ms: ms(a.startedAt, a.endedAt),
      model: a.model,
      input_tokens: a.result?.usage.inputTokens ?? null,
      output_tokens: a.result?.usage.outputTokens ?? null,
      total_tokens: a.result?.usage.totalTokens ?? null,
      cost: a.result?.costUsdDecimal ?? null,
      attributes: {
        'aiops.gateway.attempt': i + 1,
        ...(a.integrationId ? { 'aiops.integration_id': a.integrationId } : {}),
        ...(a.result ? { 'aiops.cached': a.result.cached, 'aiops.priced': a.result.priced ?? false } : {}),
      },
    })),
  ];
}

/** The usage ledger row of a call that succeeded (none for one that failed on every target). */
function usageOf(call: GatewayCall) {
  const ok = call.attempts.find((a) => a.result);
  const result = ok?.result;
  if (!ok || !result) return undefined;
  const period = periodOf(call.startedAt);
  return {
    quantity: result.cached ? 0 : result.usage.totalTokens,
    cost: result.costUsdDecimal ?? String(result.costUsd),
    period_start: period.start,
    period_end: period.end,
    occurred_at: call.startedAt.toISOString(),
    resource_id: call.id,
    api_key_id: call.apiKeyId,
    model: ok.model,
    input_tokens: result.usage.inputTokens,
    output_tokens: result.usage.outputTokens,
    cached_tokens: result.usage.cachedInputTokens,
    details: {
      traceId: call.traceId,
      requestedModel: call.requested,
      kind: call.kind,
      integrationId: result.integrationId ?? null,
      cachedResponse: result.cached,
      estimated: result.usage.estimated,
      reasoningTokens: result.usage.reasoningTokens,
      priced: result.priced ?? false,
      attempts: call.attempts.length,
    },
    source_key: `gateway:${call.id}`,
    // the integration's counters count the provider calls it made (not answers from the cache)
    integration_id: result.cached ? null : (result.integrationId ?? null),
  };
}

/**
 * Writes the records of calls of one organization in one statement: every call's spans; for those that
 * succeeded, their ledger rows, their integrations' counters and the organization's monthly spend.
 */
export async function recordCalls(
  db: Database,
  organizationId: string,
  calls: readonly { call: GatewayCall; endedAt: Date }[],
): Promise<void> {
  const spans = calls.flatMap((c) => spansOf(c.call, c.endedAt));
  const usage = calls.flatMap((c) => usageOf(c.call) ?? []);
  await db.withTenant({ organizationId, asyncCommit: true }, (tx) =>
    queryRows(
      tx,
      sql`
      WITH span_rows AS (
        INSERT INTO spans (organization_id, trace_id, span_id, parent_span_id, name, kind, status, status_message,
                           start_time, end_time, duration_ms, source, service_name, model, input_tokens,
                           output_tokens, total_tokens, cost, attributes)
        SELECT ${organizationId}::uuid, s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.status,
               s.status_message, s.start_time, s.end_time, s.duration_ms, 'gateway', 'aiops-gateway', s.model,
               s.input_tokens, s.output_tokens, s.total_tokens, s.cost, s.attributes
        FROM jsonb_to_recordset(${JSON.stringify(spans)}::jsonb) AS s(trace_id text, span_id text,
               parent_span_id text, name text, kind text, status text, status_message text,
               start_time timestamptz, end_time timestamptz, duration_ms numeric, model text, input_tokens int,
               output_tokens int, total_tokens int, cost numeric, attributes jsonb)
        ON CONFLICT DO NOTHING
        RETURNING 1
      ), calls AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(usage)}::jsonb) AS u(quantity bigint, cost numeric,
               period_start date, period_end date, occurred_at timestamptz, resource_id uuid, api_key_id uuid,
               model text, input_tokens bigint, output_tokens bigint, cached_tokens bigint, details jsonb,
               source_key text, integration_id uuid)
      ), ledger_rows AS (
        INSERT INTO usage_records (organization_id, usage_type, quantity, unit, unit_price, total_cost,
               period_start, period_end, occurred_at, resource_type, resource_id, api_key_id, model, input_tokens,
               output_tokens, cached_tokens, details, source_key)
        SELECT ${organizationId}::uuid, 'tokens', c.quantity, 'token',
               CASE WHEN c.quantity > 0 THEN round(c.cost / c.quantity, 12) END, c.cost, c.period_start,
               c.period_end, c.occurred_at, 'gateway_call', c.resource_id, c.api_key_id, c.model, c.input_tokens,
               c.output_tokens, c.cached_tokens, c.details, c.source_key
        FROM calls c
        ON CONFLICT (organization_id, source_key) DO NOTHING
        RETURNING total_cost
      ), integration_rows AS (
        UPDATE integrations i SET total_requests = i.total_requests + v.requests,
               input_tokens = i.input_tokens + v.input_tokens, output_tokens = i.output_tokens + v.output_tokens,
               total_tokens = i.total_tokens + v.total_tokens, total_cost = i.total_cost + v.cost,
               last_used_at = now()
        FROM (SELECT integration_id, count(*) AS requests, sum(input_tokens) AS input_tokens,
                     sum(output_tokens) AS output_tokens, sum(quantity) AS total_tokens, sum(cost) AS cost
              FROM calls WHERE integration_id IS NOT NULL GROUP BY integration_id) v
        WHERE i.id = v.integration_id
        RETURNING 1
      )
      -- the month's spend grows by the ledger's rows as written (each cost at the ledger's six decimals), so
      -- the two always agree, however many calls a write holds
      SELECT aiops_add_org_cost(jsonb_build_array(jsonb_build_object('organization_id', ${organizationId}::uuid,
             'cost', t.cost)))
      FROM (SELECT sum(total_cost) AS cost FROM ledger_rows) t WHERE t.cost > 0`,
    ),
  );
}

interface Pending {
  call: GatewayCall;
  endedAt: Date;
  done: () => void;
}

/**
 * Records calls, waiting for none of them: `record` queues a call's bookkeeping and returns a promise of
 * its write (which the failed calls wait for); the calls queued while a write is under way are written
 * together next. `drain` waits for every record still to be written (the server's close, tests).
 */
export class Recorder {
  #queue: Pending[] = [];
  #writing: Promise<void> | undefined;
  constructor(
    private readonly db: Database,
    private readonly onError: (err: unknown, call: GatewayCall) => void,
  ) {}

  record(call: GatewayCall, endedAt: Date): Promise<void> {
    const written = new Promise<void>((done) => this.#queue.push({ call, endedAt, done }));
    this.#writing ??= this.#writeAll();
    return written;
  }

  async #writeAll(): Promise<void> {
    // the calls answered in the same turn of the event loop go together
    await new Promise((r) => setImmediate(r));
    while (this.#queue.length) {
      const batch = this.#queue;
      this.#queue = [];
      const byOrganization = new Map<string, Pending[]>();
      for (const p of batch) {
        const list = byOrganization.get(p.call.organizationId);
        if (list) list.push(p);
        else byOrganization.set(p.call.organizationId, [p]);
      }
      await Promise.all(
        [...byOrganization].map(([organizationId, list]) =>
          recordCalls(this.db, organizationId, list).catch(async (err: unknown) => {
            // one call's records that cannot be written do not lose the others': each alone, then
            if (list.length === 1) return this.onError(err, list[0]!.call);
            for (const p of list)
              await recordCalls(this.db, organizationId, [p]).catch((e: unknown) => this.onError(e, p.call));
          }),
        ),
      );
      for (const p of batch) p.done();
    }
    this.#writing = undefined;
  }

  async drain(): Promise<void> {
    while (this.#writing) await this.#writing;
  }
}
