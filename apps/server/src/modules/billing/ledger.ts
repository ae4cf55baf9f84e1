import { type Database, type Executor, queryRows, type Tx, usageRecords } from '@aiops/db';
import { sql } from 'drizzle-orm';

/**
 * The usage ledger's writers that live in TypeScript. Runs and model-call attempts are recorded by
 * database triggers in the transaction that writes them (migration "billing"); everything else calls
 * these functions inside the transaction of what it measures. Every write has a source key, so calling
 * one twice for the same source records it once.
 */

/** The calendar month (UTC) an instant belongs to, as ISO dates. */
export function periodOf(at: Date): { start: string; end: string } {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth();
  const start = new Date(Date.UTC(y, m, 1));
  const end = new Date(Date.UTC(y, m + 1, 0));
  return { start: start.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
}

export interface UsageEntry {
  organizationId: string;
  usageType: 'conversation_message' | 'storage' | 'plan_change';
  quantity: number;
  unit: string;
  sourceKey: string;
  resourceType?: string;
  resourceId?: string | null;
  workflowId?: string | null;
  occurredAt?: Date;
  details?: Record<string, unknown>;
}

/** Appends one ledger row in `tx` (the caller's tenant transaction); a repeated source key is a no-op. */
export async function recordUsage(tx: Tx, entry: UsageEntry): Promise<boolean> {
  const at = entry.occurredAt ?? new Date();
  const period = periodOf(at);
  const rows = await tx
    .insert(usageRecords)
    .values({
      organizationId: entry.organizationId,
      usageType: entry.usageType,
      quantity: entry.quantity,
      unit: entry.unit,
      periodStart: period.start,
      periodEnd: period.end,
      occurredAt: at,
      resourceType: entry.resourceType ?? null,
      resourceId: entry.resourceId ?? null,
      workflowId: entry.workflowId ?? null,
      details: entry.details ?? {},
      sourceKey: entry.sourceKey.slice(0, 255),
    })
    .onConflictDoNothing()
    .returning({ id: usageRecords.id });
  return rows.length > 0;
}

export interface ModelSpendEntry {
  organizationId: string;
  sourceKey: string;
  resourceType: string;
  resourceId: string | null;
  workflowId?: string | null;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Exact decimal USD the call cost (the model port's figure). */
  costUsd: string;
  occurredAt?: Date;
  details?: Record<string, unknown>;
}

/**
 * Model spend outside a run's attempts (LLM-as-judge calls): one `tokens` row with the call's tokens and
 * exact cost, and the cost added to the organization's monthly cost (`aiops_add_org_cost`, as the engine
 * does for attempts), both in `tx` and only the first time the source key is seen, so a repeat is a no-op.
 */
export async function recordModelSpend(tx: Tx, entry: ModelSpendEntry): Promise<boolean> {
  const at = entry.occurredAt ?? new Date();
  const period = periodOf(at);
  const tokens = entry.inputTokens + entry.outputTokens;
  const rows = await tx
    .insert(usageRecords)
    .values({
      organizationId: entry.organizationId,
      usageType: 'tokens',
      quantity: tokens,
      unit: 'token',
      unitPrice: tokens > 0 ? sql`round(${entry.costUsd}::numeric / ${tokens}, 12)` : null,
      totalCost: entry.costUsd,
      periodStart: period.start,
      periodEnd: period.end,
      occurredAt: at,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      workflowId: entry.workflowId ?? null,
      model: entry.model.slice(0, 255),
      inputTokens: entry.inputTokens,
      outputTokens: entry.outputTokens,
      details: entry.details ?? {},
      sourceKey: entry.sourceKey.slice(0, 255),
    })
    .onConflictDoNothing()
    .returning({ id: usageRecords.id });
  if (!rows.length) return false;
  if (Number(entry.costUsd) > 0)
    await tx.execute(
      sql`SELECT aiops_add_org_cost(${JSON.stringify([{ organization_id: entry.organizationId, cost: entry.costUsd }])}::jsonb)`,
    );
  return true;
}

/**
 * For the conversations feature: call in the transaction that stores a message. One ledger row per
 * message id (idempotent), quantity 1, with its tokens in `details` when known.
 */
export function recordConversationMessage(
  tx: Tx,
  message: {
    organizationId: string;
    conversationId: string;
    messageId: string;
    role?: string;
    tokens?: number;
    at?: Date;
  },
): Promise<boolean> {
  return recordUsage(tx, {
    organizationId: message.organizationId,
    usageType: 'conversation_message',
    quantity: 1,
    unit: 'message',
    sourceKey: `message:${message.messageId}`,
    resourceType: 'conversation_message',
    resourceId: message.messageId,
    ...(message.at ? { occurredAt: message.at } : {}),
    details: {
      conversationId: message.conversationId,
      ...(message.role ? { role: message.role } : {}),
      ...(message.tokens !== undefined ? { tokens: message.tokens } : {}),
    },
  });
}

/**
 * Stored bytes of one organization on one day (run inputs and outputs, attempt inputs and outputs, memory
 * messages), recorded once per day as `storage` (unit byte-day). Runs in the organization's transaction.
 */
export async function recordStorageSnapshot(tx: Tx, organizationId: string, day: string): Promise<number> {
  const [row] = await queryRows<{ bytes: string }>(
    tx,
    sql`SELECT (
        coalesce((SELECT sum(pg_column_size(input_data) + coalesce(pg_column_size(output_data), 0))
                  FROM workflow_executions WHERE organization_id = ${organizationId}), 0)
      + coalesce((SELECT sum(pg_column_size(input) + coalesce(pg_column_size(output), 0))
                  FROM agent_executions WHERE organization_id = ${organizationId}), 0)
      + coalesce((SELECT sum(pg_column_size(m.*)) FROM memory_messages m WHERE organization_id = ${organizationId}), 0)
      )::text AS bytes`,
  );
  const bytes = Number(row?.bytes ?? 0);
  await recordUsage(tx, {
    organizationId,
    usageType: 'storage',
    quantity: bytes,
    unit: 'byte_day',
    sourceKey: `storage:${day}`,
    occurredAt: new Date(`${day}T00:00:00Z`),
    details: { day },
  });
  return bytes;
}

const HOUR_MS = 3_600_000;

/**
 * API calls made with API keys, counted per key per hour (not one row per request): requests are counted
 * in memory and flushed every `flushMs` (and on close) as one upsert that raises the hour's `api_call`
 * row. A flush that fails keeps its counts for the next one. Requests of a process that dies between two
 * flushes are not counted (at most `flushMs` of them).
 */
export class ApiUsageMeter {
  private counts = new Map<string, { organizationId: string; apiKeyId: string; hour: number; n: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly flushMs = 5_000,
  ) {}

  count(organizationId: string, apiKeyId: string, at = Date.now()): void {
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    const key = `${apiKeyId}:${hour}`;
    const c = this.counts.get(key);
    if (c) c.n += 1;
    else this.counts.set(key, { organizationId, apiKeyId, hour, n: 1 });
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch(() => {});
      }, this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes the counted requests (one statement for every key and hour); resolves when written. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.counts.size === 0) return;
    const batch = [...this.counts.values()];
    this.counts = new Map();
    this.flushing = (async () => {
      try {
        await this.db.system((tx) => writeApiCalls(tx, batch));
      } catch (e) {
        for (const c of batch) {
          const key = `${c.apiKeyId}:${c.hour}`;
          const cur = this.counts.get(key);
          if (cur) cur.n += c.n;
          else this.counts.set(key, c);
        }
        throw e;
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(() => {});
  }
}

async function writeApiCalls(
  ex: Executor,
  batch: { organizationId: string; apiKeyId: string; hour: number; n: number }[],
): Promise<void> {
  const rows = batch.map((c) => {
    const at = new Date(c.hour);
    const p = periodOf(at);
    return {
      o: c.organizationId,
      k: c.apiKeyId,
      at: at.toISOString(),
      ps: p.start,
      pe: p.end,
      n: c.n,
      s: `api:${c.apiKeyId}:${at.toISOString().slice(0, 13)}`,
    };
  });
  await ex.execute(sql`
    INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start, period_end, occurred_at,
      resource_type, resource_id, api_key_id, source_key)
    SELECT r.o, 'api_call', r.n, 'request', r.ps, r.pe, r.at, 'api_key', r.k, r.k, r.s
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(o uuid, k uuid, at timestamptz, ps date, pe date, n bigint, s text)
    JOIN organizations o ON o.id = r.o
    ON CONFLICT (organization_id, source_key) DO UPDATE SET quantity = usage_records.quantity + excluded.quantity`);
}

/**
 * Records a tier change in the ledger (in the transaction that changes the tier): invoices prorate the
 * plan fee by day from these rows. Source key: one per change instant.
 */
export function recordPlanChange(
  tx: Tx,
  organizationId: string,
  from: string,
  to: string,
  at = new Date(),
): Promise<boolean> {
  return recordUsage(tx, {
    organizationId,
    usageType: 'plan_change',
    quantity: 0,
    unit: 'change',
    sourceKey: `plan:${at.toISOString()}:${from}:${to}`,
    occurredAt: at,
    details: { from, to },
  });
}

export interface OrganizationUsage {
  organizationId: string;
  name: string;
  tier: string;
  runs: number;
  tokens: number;
  apiCalls: number;
  messages: number;
  modelCost: string;
}

/** Every organization's usage in one period (YYYY-MM-01), for the operator (`aiops billing usage`). */
export async function usageByOrganization(db: Database, periodStart: string): Promise<OrganizationUsage[]> {
  const rows = await db.system((tx) =>
    queryRows<{
      id: string;
      name: string;
      tier: string;
      runs: string;
      tokens: string;
      api: string;
      messages: string;
      cost: string;
    }>(
      tx,
      sql`SELECT o.id::text AS id, o.name, o.subscription_tier AS tier,
            coalesce(sum(u.quantity) FILTER (WHERE u.usage_type = 'workflow_execution'), 0)::text AS runs,
            coalesce(sum(u.quantity) FILTER (WHERE u.usage_type = 'tokens'), 0)::text AS tokens,
            coalesce(sum(u.quantity) FILTER (WHERE u.usage_type = 'api_call'), 0)::text AS api,
            coalesce(sum(u.quantity) FILTER (WHERE u.usage_type = 'conversation_message'), 0)::text AS messages,
            coalesce(sum(u.total_cost), 0)::text AS cost
          FROM organizations o
          LEFT JOIN usage_records u ON u.organization_id = o.id AND u.period_start = ${periodStart}::date
          WHERE o.deleted_at IS NULL
          GROUP BY o.id ORDER BY o.name, o.id`,
    ),
  );
  return rows.map((r) => ({
    organizationId: r.id,
    name: r.name,
    tier: r.tier,
    runs: Number(r.runs),
    tokens: Number(r.tokens),
    apiCalls: Number(r.api),
    messages: Number(r.messages),
    modelCost: r.cost,
  }));
}
