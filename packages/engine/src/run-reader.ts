import { notFound } from '@aiops/core';
import { type Database, workflowExecutions } from '@aiops/db';
import { getTableColumns, sql } from 'drizzle-orm';
import type { RunRow } from './run-rows.ts';

interface Pending {
  resolve: (row: RunRow) => void;
  reject: (e: unknown) => void;
}

/**
 * Reads runs by id in batches per organization: calls that arrive while a batch is being read share the
 * next one (one statement for many, as RunCreator does for inserts). A lone call is read at once.
 * Used by the API's answers about runs it has just started (202) and by waits that must read.
 */
export class RunReader {
  private readonly queues = new Map<string, Map<string, Pending[]>>();
  private readonly draining = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly maxBatch = 500,
  ) {}

  read(organizationId: string, runId: string): Promise<RunRow> {
    if (!UUID.test(runId)) return Promise.reject(notFound('Run', runId));
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(organizationId) ?? new Map<string, Pending[]>();
      this.queues.set(organizationId, queue);
      const waiting = queue.get(runId) ?? [];
      waiting.push({ resolve, reject });
      queue.set(runId, waiting);
      if (!this.draining.has(organizationId)) {
        this.draining.add(organizationId);
        void this.drain(organizationId);
      }
    });
  }

  private async drain(organizationId: string): Promise<void> {
    const queue = this.queues.get(organizationId)!;
    while (queue.size) {
      const ids = [...queue.keys()].slice(0, this.maxBatch);
      const batch = ids.map((id) => [id, queue.get(id)!] as const);
      for (const id of ids) queue.delete(id);
      try {
        const rows = await readRuns(this.db, organizationId, ids);
        const byId = new Map(rows.map((r) => [r.id, r]));
        for (const [id, waiting] of batch) {
          const row = byId.get(id);
          for (const p of waiting) row ? p.resolve(row) : p.reject(notFound('Run', id));
        }
      } catch (err) {
        for (const [, waiting] of batch) for (const p of waiting) p.reject(err);
      }
    }
    this.queues.delete(organizationId);
    this.draining.delete(organizationId);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every column of a run: its property, its name in the row, and the column that decodes it. */
const RUN_COLUMNS = Object.entries(getTableColumns(workflowExecutions)).map(
  ([key, column]) => [key, column.name, column] as const,
);

/**
 * A run's row as Drizzle decodes the table's (null stays null, every other value through its column), by
 * one loop over the columns: a Drizzle select of the 40 columns spent more in building the query and in
 * its generic row mapper than in the rest of the read.
 */
function decodeRun(raw: Record<string, unknown>): RunRow {
  const row: Record<string, unknown> = {};
  for (const [key, name, column] of RUN_COLUMNS) {
    const value = raw[name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as unknown as RunRow;
}

/**
 * Runs by id in one statement, without a transaction (`aiops_read_runs`, migration 0044; `db.statement`,
 * on PGlite a prepared statement parsed once): the runs of `organizationId`, or of any organization when
 * it is null (the worker's final rows). Ids that match no visible run are left out.
 */
export async function readRuns(
  db: Pick<Database, 'statement'>,
  organizationId: string | null,
  ids: string[],
): Promise<RunRow[]> {
  if (!ids.length) return [];
  const rows = await db.statement<Record<string, unknown>>(
    sql`SELECT * FROM aiops_read_runs(${organizationId}::uuid, ${`{${ids.join(',')}}`}::uuid[])`,
  );
  return rows.map(decodeRun);
}
