import { type Database, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { ClaimedStep } from '../sql/claim-steps.ts';
import type { StepOutcome } from '../sql/complete-steps.ts';
import type { Logger } from '../types.ts';
import { stepSpanId, traceIdOfRun } from './ids.ts';
import { type LogRecord, type SpanRecord, StepObserver } from './step-observer.ts';

/** The month-partitioned tables of observability (see ARCHITECTURE.md, "Observability"). */
export const PARTITIONED_TABLES = ['execution_logs', 'spans'] as const;

/**
 * A worker's logs and spans: one `StepObserver` per step attempt, whose records go into the statement
 * that records the attempt's outcome (`completeSteps(…, observations)`), so logging and tracing add no
 * round trip and no commit. Off with `AIOPS_TRACING=off` (or `tracing: false`).
 */
export class Observability {
  readonly enabled: boolean;
  private readonly observers = new WeakMap<StepOutcome, StepObserver>();
  private readonly traceIds = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? process.env.AIOPS_TRACING !== 'off';
  }

  /** Makes this month's and next month's partitions now and every 6 hours (the maintenance job does too). */
  start(): void {
    if (!this.enabled || this.timer) return;
    void this.ensurePartitions();
    this.timer = setInterval(() => void this.ensurePartitions(), 6 * 3_600_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
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
      spans.push(...r.spans);
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
