import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { type Database, queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

export interface Partition {
  name: string;
  /** Month start (UTC). */
  from: Date;
  /** Next month's start. */
  to: Date;
}

const NAME = /_y(\d{4})m(\d{2})$/;
const SAFE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Partition name of `table` for the month of `month` (UTC). */
export function partitionName(table: string, month: Date): string {
  return `${table}_y${month.getUTCFullYear()}m${String(month.getUTCMonth() + 1).padStart(2, '0')}`;
}

function ident(name: string): string {
  if (!SAFE.test(name)) throw new Error(`unexpected table name ${name}`);
  return `"${name}"`;
}

/** The month partitions of `table`, oldest first (only those named `<table>_yYYYYmMM`). */
export async function listPartitions(tx: Tx, table: string): Promise<Partition[]> {
  const rows = await queryRows<{ name: string }>(
    tx,
    sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE p.relname = ${table} AND n.nspname = 'public' ORDER BY c.relname`,
  );
  const out: Partition[] = [];
  for (const { name } of rows) {
    const m = NAME.exec(name);
    if (!m || name !== partitionName(table, new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)))) continue;
    const from = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
    out.push({ name, from, to: new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1)) });
  }
  return out;
}

/** Creates the partitions of `table` for `months` months from `from`'s month on (existing ones are kept). */
export async function ensurePartitions(tx: Tx, table: string, from: Date, months: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < months; i++) {
    const month = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + i, 1));
    const [row] = await queryRows<{ name: string }>(
      tx,
      sql`SELECT aiops_ensure_month_partition(${table}, ${month.toISOString().slice(0, 10)}::date) AS name`,
    );
    names.push(row!.name);
  }
  return names;
}

const PAGE = 5000;

/**
 * Writes every row of a partition as JSON lines, gzip-compressed, to `<dir>/<table>/<partition>.jsonl.gz`
 * (through a temporary file, synced, then renamed, so a crash never leaves a truncated archive under the
 * final name). Rows are read in pages in ctid order. Returns the file and the row count.
 */
export async function archivePartition(
  db: Database,
  dir: string,
  table: string,
  partition: string,
  signal?: AbortSignal,
): Promise<{ file: string; rows: number }> {
  const folder = join(dir, table);
  await mkdir(folder, { recursive: true });
  const file = join(folder, `${partition}.jsonl.gz`);
  const tmp = `${file}.tmp-${process.pid}`;
  let rows = 0;
  async function* lines() {
    let after = '(0,0)';
    for (;;) {
      signal?.throwIfAborted();
      const page = await db.system((tx) =>
        queryRows<{ line: string; at: string }>(
          tx,
          sql`SELECT row_to_json(p)::text AS line, p.ctid::text AS at FROM ${sql.raw(ident(partition))} p
              WHERE p.ctid > ${after}::tid ORDER BY p.ctid LIMIT ${PAGE}`,
        ),
      );
      if (!page.length) return;
      rows += page.length;
      yield `${page.map((r) => r.line).join('\n')}\n`;
      after = page[page.length - 1]!.at;
    }
  }
  try {
    await pipeline(lines, createGzip(), createWriteStream(tmp));
    const handle = await open(tmp, 'r');
    await handle.sync();
    await handle.close();
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return { file, rows };
}

/** Drops a partition (detached first, so the parent is locked only briefly). */
export async function dropPartition(tx: Tx, table: string, partition: string): Promise<void> {
  await tx.execute(sql.raw(`ALTER TABLE ${ident(table)} DETACH PARTITION ${ident(partition)}`));
  await tx.execute(sql.raw(`DROP TABLE ${ident(partition)}`));
}
