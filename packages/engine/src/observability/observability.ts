import { type Database, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { ClaimedStep } from '../sql/claim-steps.ts';
import type { StepOutcome } from '../sql/complete-steps.ts';
import type { Logger } from '../types.ts';
import { runSpanId, stepSpanId, traceIdOfRun } from './ids.ts';
import { attributesOf, OtelExport } from './otel-export.ts';
import { type LogRecord, type SpanRecord, StepObserver } from './step-observer.ts';

/** The month-partitioned tables of observability (see ARCHITECTURE.md, "Observability"). */
export const PARTITIONED_TABLES = ['execution_logs', 'spans'] as const;

/**
 * A worker's logs and spans: one `StepObserver` per step attempt, whose records go into the statement
 * that records the attempt's outcome (`completeSteps(…, observations)`), so logging and tracing add no
 * round trip and no commit. Off with `tracing: false` (the server's `AIOPS_TRACING=off`).
 */
export class Observability {
  readonly enabled: boolean;
  private readonly observers = new WeakMap<StepOutcome, StepObserver>();
  private readonly traceIds = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly otel: OtelExport | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? true;
    this.otel = this.enabled ? OtelExport.fromEnv(log) : undefined;
  }

  /** Makes this month's and next month's partitions now and every 6 hours (the maintenance job does too). */
  start(): void {
    if (!this.enabled || this.timer) return;
    void this.ensurePartitions();
    this.timer = setInterval(() => void this.ensurePartitions(), 6 * 3_600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.otel?.shutdown();
  }

  /**
   * After a batch is recorded: its spans, and the spans of runs it finished, to the OpenTelemetry exporter
   * (only when OTEL_EXPORTER_OTLP_ENDPOINT is set; the trace ids of runs are read once per run).
   */
  async exported(batch: StepOutcome[], finishedRuns: { runId: string }[]): Promise<void> {
    if (!this.otel) return;
    try {
      const spans = batch.flatMap((o) => this.observers.get(o)?.records(o).spans() ?? []);
      const out = [];
      for (const s of spans)
        out.push({
          traceId: await this.traceIdOf(s.run_id),
          spanId: s.span_id,
          parentSpanId: s.parent_span_id,
          name: s.name,
          kind: s.kind,
          status: s.status,
          statusMessage: s.status_message,
          start: new Date(s.start_time),
          end: new Date(s.end_time),
          attributes: attributesOf(s),
        });
      // A run cancelled elsewhere (the API, a parent run) is finished by that transaction, not by this
      // batch; the aborted step's outcome here is the one place that sees it end, so its run span goes too.
      const finishedHere = new Set(finishedRuns.map((r) => r.runId));
      const cancelled = batch.filter((o) => o.kind === 'cancelled' && !finishedHere.has(o.step.runId));
      const runIds = [...finishedHere, ...new Set(cancelled.map((o) => o.step.runId))];
      if (runIds.length) {
        const rows = await this.db.system((tx) =>
          queryRows<{
            id: string;
            status: string;
            started_at: string | null;
            created_at: string;
            completed_at: string | null;
            metadata: {
              trace?: { traceId?: string; parentSpanId?: string };
              traceLink?: { traceId: string; spanId: string };
            };
          }>(
            tx,
            sql`SELECT id, status, started_at, created_at, completed_at, metadata FROM workflow_executions
                WHERE id = ANY(${`{${runIds.join(',')}}`}::uuid[])`,
          ),
        );
        const runs = rows.filter(
          (r) => finishedHere.has(r.id) || (r.status === 'cancelled' && r.completed_at),
        );
        for (const r of runs)
          out.push({
            traceId: r.metadata?.trace?.traceId ?? traceIdOfRun(r.id),
            spanId: runSpanId(r.id),
            parentSpanId: r.metadata?.trace?.parentSpanId ?? null,
            name: 'run',
            kind: 'run',
            status:
              r.status === 'completed'
                ? 'ok'
                : r.status === 'failed' || r.status === 'timeout'
                  ? 'error'
                  : 'unset',
            start: new Date(r.started_at ?? r.created_at),
            end: new Date(r.completed_at ?? Date.now()),
            attributes: { 'aiops.run.id': r.id, 'aiops.run.status': r.status },
            ...(r.metadata?.traceLink ? { links: [r.metadata.traceLink] } : {}),
          } as const);
      }
      this.otel.export(out);
    } catch (err) {
      this.log.warn({ err }, 'spans not exported');
    }
  }

  async ensurePartitions(): Promise<void> {
    try {
      await this.db.system(async (tx) => {
        for (const table of PARTITIONED_TABLES)
          await tx.execute(sql`SELECT aiops_ensure_partitions(${table}, 1)`);
      });
    } catch (err) {
      this.log.warn({ err }, 'creating log and span partitions failed');
    }
  }

  begin(step: ClaimedStep): StepObserver | undefined {
    return this.enabled ? new StepObserver(step, (runId) => this.traceIdOf(runId)) : undefined;
  }

  attach(outcome: StepOutcome, observer: StepObserver | undefined): void {
    if (observer) this.observers.set(outcome, observer);
  }

  /** The log lines and spans of a batch of outcomes, as `aiops_record_observations` takes them. */
  payload(batch: StepOutcome[]): { logs: LogRecord[]; spans: SpanRecord[] } | undefined {
    if (!this.enabled) return undefined;
    const logs: LogRecord[] = [];
    const spans: SpanRecord[] = [];
    for (const o of batch) {
      const obs = this.observers.get(o);
      if (!obs) continue;
      const r = obs.records(o);
      logs.push(...r.logs);
      spans.push(...r.stored);
    }
    return logs.length || spans.length ? { logs, spans } : undefined;
  }

  /**
   * What a sub-workflow's child run keeps of its parent (`metadata.traceLink`): the child is a trace of
   * its own whose run span links to the parent step attempt's span.
   */
  async childLink(step: ClaimedStep): Promise<{ traceLink?: { traceId: string; spanId: string } }> {
    if (!this.enabled) return {};
    return {
      traceLink: { traceId: await this.traceIdOf(step.runId), spanId: stepSpanId(step.stepId, step.attempt) },
    };
  }

  /** A run's trace id (its own, or the one its caller's traceparent gave it); read once per run. */
  private async traceIdOf(runId: string): Promise<string> {
    const hit = this.traceIds.get(runId);
    if (hit) return hit;
    const [row] = await this.db.system((tx) =>
      queryRows<{ trace_id: string | null }>(
        tx,
        sql`SELECT metadata->'trace'->>'traceId' AS trace_id FROM workflow_executions WHERE id = ${runId}`,
      ),
    );
    const traceId = row?.trace_id ?? traceIdOfRun(runId);
    if (this.traceIds.size > 10_000) this.traceIds.clear();
    this.traceIds.set(runId, traceId);
    return traceId;
  }
}
