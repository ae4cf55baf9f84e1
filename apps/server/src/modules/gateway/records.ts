/**
 * The gateway's bookkeeping, in one transaction of the caller's organization after each call: the usage
 * ledger row (tokens and exact cost, with the API key), the organization's monthly spend (what budgets
 * are checked against), the integration's usage counters, and the call's trace (a root span and one span
 * per model attempt, fallbacks included).
 *
 * A successful call is answered first and recorded right after (`Recorder`), so the bookkeeping adds no
 * latency to the client's call; a failed one is recorded before its error is sent. The transaction
 * commits without waiting for the WAL flush (`asyncCommit`): a crash of the database server in the next
 * fraction of a second may lose the records of the last calls, never half of one.
 */
import { randomBytes } from 'node:crypto';
import type { ModelResult } from '@aiops/core';
import { type Database, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { periodOf } from '../billing/ledger.ts';
import { addIntegrationUsage } from '../integrations/model-port.ts';

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
const newSpanId = () => randomBytes(8).toString('hex');

const ms = (a: Date, b: Date) => (b.getTime() - a.getTime()).toFixed(3);

/** Writes the call's records; a call that failed on every target writes its trace only. */
export async function recordCall(db: Database, call: GatewayCall, endedAt: Date): Promise<void> {
  const ok = call.attempts.find((a) => a.result);
  const rootId = newSpanId();
  const spans = [
    {
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
  await db.withTenant({ organizationId: call.organizationId, asyncCommit: true }, async (tx) => {
    await tx.execute(sql`
      INSERT INTO spans (organization_id, trace_id, span_id, parent_span_id, name, kind, status, status_message,
                         start_time, end_time, duration_ms, source, service_name, model, input_tokens,
                         output_tokens, total_tokens, cost, attributes)
      SELECT ${call.organizationId}::uuid, ${call.traceId}, s.span_id, s.parent_span_id, s.name, s.kind, s.status,
             s.status_message, s.start_time, s.end_time, s.duration_ms, 'gateway', 'aiops-gateway', s.model,
             s.input_tokens, s.output_tokens, s.total_tokens, s.cost, s.attributes
      FROM jsonb_to_recordset(${JSON.stringify(spans)}::jsonb) AS s(span_id text, parent_span_id text, name text,
             kind text, status text, status_message text, start_time timestamptz, end_time timestamptz,
             duration_ms numeric, model text, input_tokens int, output_tokens int, total_tokens int,
             cost numeric, attributes jsonb)
      ON CONFLICT DO NOTHING`);
    const result = ok?.result;
    if (!ok || !result) return;
    await addIntegrationUsage(tx, result);
    const period = periodOf(call.startedAt);
    const cost = result.costUsdDecimal ?? String(result.costUsd);
    const total = result.cached ? 0 : result.usage.totalTokens;
    await tx.execute(sql`
      INSERT INTO usage_records (organization_id, usage_type, quantity, unit, unit_price, total_cost, period_start,
        period_end, occurred_at, resource_type, resource_id, api_key_id, model, input_tokens, output_tokens,
        cached_tokens, details, source_key)
      VALUES (${call.organizationId}, 'tokens', ${total}, 'token',
        CASE WHEN ${total}::bigint > 0 THEN round(${cost}::numeric / ${total}::bigint, 12) END, ${cost}::numeric,
        ${period.start}, ${period.end}, ${call.startedAt.toISOString()}, 'gateway_call', ${call.id},
        ${call.apiKeyId}, ${ok.model}, ${result.usage.inputTokens}, ${result.usage.outputTokens},
        ${result.usage.cachedInputTokens},
        ${JSON.stringify({
          traceId: call.traceId,
          requestedModel: call.requested,
          kind: call.kind,
          integrationId: result.integrationId ?? null,
          cachedResponse: result.cached,
          estimated: result.usage.estimated,
          reasoningTokens: result.usage.reasoningTokens,
          priced: result.priced ?? false,
          attempts: call.attempts.length,
        })}::jsonb, ${`gateway:${call.id}`})
      ON CONFLICT (organization_id, source_key) DO NOTHING`);
    if (Number(cost) > 0)
      await queryRows(
        tx,
        sql`SELECT aiops_add_org_cost(${JSON.stringify([{ organization_id: call.organizationId, cost }])}::jsonb)`,
      );
  });
}

/**
 * Records calls, waiting for none of them: `record` starts a call's bookkeeping and returns at once;
 * `drain` waits for every record still being written (the server's close, tests).
 */
export class Recorder {
  readonly #pending = new Set<Promise<void>>();
  constructor(
    private readonly db: Database,
    private readonly onError: (err: unknown, call: GatewayCall) => void,
  ) {}

  record(call: GatewayCall, endedAt: Date): Promise<void> {
    const p = recordCall(this.db, call, endedAt)
      .catch((err: unknown) => this.onError(err, call))
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
    return p;
  }

  async drain(): Promise<void> {
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }
}
