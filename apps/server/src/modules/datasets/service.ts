import { AppError, conflict, notFound, validationFailed } from '@aiops/core';
import { datasetItems, datasets, queryRows, type Tx, workflowExecutions } from '@aiops/db';
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { isUniqueViolation } from '../../services/dto.ts';
import { MAX_IMPORT_ITEMS, type ParsedItem, parseCsv, parseJsonLines } from './parse.ts';

type DatasetRow = typeof datasets.$inferSelect;
type ItemRow = typeof datasetItems.$inferSelect;

/** Largest JSON of one item's input, expected output or metadata (bytes). */
const MAX_VALUE_BYTES = 256_000;

export function datasetDto(row: DatasetRow, itemCount: number) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.version,
    itemCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function itemDto(row: ItemRow) {
  return {
    id: row.id,
    datasetId: row.datasetId,
    input: row.input,
    expectedOutput: row.expectedOutput ?? null,
    metadata: row.metadata,
    sourceRunId: row.sourceRunId,
    addedInVersion: row.addedInVersion,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Items of a dataset version: added at or before it and not removed by it. */
export const inVersion = (version: number) =>
  sql`${datasetItems.addedInVersion} <= ${version} AND (${datasetItems.removedInVersion} IS NULL OR ${datasetItems.removedInVersion} > ${version})`;

export async function findDataset(tx: Tx, id: string): Promise<DatasetRow> {
  const [row] = await tx
    .select()
    .from(datasets)
    .where(and(eq(datasets.id, id), isNull(datasets.deletedAt)));
  if (!row) throw notFound('Dataset', id);
  return row;
}

/** A dataset by id or by name (promotion policies name them). */
export async function findDatasetByRef(tx: Tx, ref: string): Promise<DatasetRow> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);
  const [row] = await tx
    .select()
    .from(datasets)
    .where(and(isId ? eq(datasets.id, ref) : eq(datasets.name, ref), isNull(datasets.deletedAt)));
  if (!row) throw notFound('Dataset', ref);
  return row;
}

async function countItems(tx: Tx, id: string, version: number): Promise<number> {
  const [r] = await queryRows<{ n: number }>(
    tx,
    sql`SELECT count(*)::int AS n FROM dataset_items WHERE dataset_id = ${id} AND ${inVersion(version)}`,
  );
  return r?.n ?? 0;
}

export async function datasetItemsAt(tx: Tx, id: string, version: number): Promise<ItemRow[]> {
  return tx
    .select()
    .from(datasetItems)
    .where(and(eq(datasetItems.datasetId, id), inVersion(version)))
    .orderBy(datasetItems.seq)
    .limit(MAX_IMPORT_ITEMS);
}

const nameTaken = (name: string) =>
  conflict(`A dataset named "${name}" already exists: pick another name`, { name });

export function listDatasets(request: FastifyRequest) {
  return tenant(request, async (tx) => {
    const rows = await tx
      .select()
      .from(datasets)
      .where(isNull(datasets.deletedAt))
      .orderBy(desc(datasets.createdAt), desc(datasets.id))
      .limit(500);
    const data = [];
    for (const r of rows) data.push(datasetDto(r, await countItems(tx, r.id, r.version)));
    return { data, nextCursor: null };
  });
}

export function createDataset(
  request: FastifyRequest,
  body: { name: string; description?: string | null | undefined },
) {
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    let row: DatasetRow;
    try {
      [row] = (await tx
        .insert(datasets)
        .values({
          organizationId: auth.organizationId,
          name: body.name,
          description: body.description ?? null,
          createdBy: auth.userId,
        })
        .returning()) as [DatasetRow];
    } catch (e) {
      if (isUniqueViolation(e)) throw nameTaken(body.name);
      throw e;
    }
    const dto = datasetDto(row, 0);
    await audit(tx, request, { entityType: 'dataset', entityId: row.id, action: 'created', after: dto });
    return dto;
  });
}

export function getDataset(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await findDataset(tx, id);
    return datasetDto(row, await countItems(tx, id, row.version));
  });
}

export function updateDataset(
  request: FastifyRequest,
  id: string,
  body: { name?: string | undefined; description?: string | null | undefined },
) {
  return tenant(request, async (tx) => {
    const before = await findDataset(tx, id);
    let row: DatasetRow;
    try {
      [row] = (await tx
        .update(datasets)
        .set({
          name: body.name ?? before.name,
          description: body.description !== undefined ? body.description : before.description,
          updatedAt: new Date(),
        })
        .where(eq(datasets.id, id))
        .returning()) as [DatasetRow];
    } catch (e) {
      if (isUniqueViolation(e)) throw nameTaken(body.name ?? before.name);
      throw e;
    }
    const n = await countItems(tx, id, row.version);
    const dto = datasetDto(row, n);
    await audit(tx, request, {
      entityType: 'dataset',
      entityId: id,
      action: 'updated',
      before: datasetDto(before, n),
      after: dto,
    });
    return dto;
  });
}

export function deleteDataset(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = await findDataset(tx, id);
    const [row] = (await tx
      .update(datasets)
      .set({ deletedAt: new Date(), updatedAt: new Date() })
      .where(eq(datasets.id, id))
      .returning()) as [DatasetRow];
    const dto = datasetDto(row, 0);
    await audit(tx, request, {
      entityType: 'dataset',
      entityId: id,
      action: 'deleted',
      before: datasetDto(before, 0),
    });
    return dto;
  });
}

export function listItems(request: FastifyRequest, id: string, version?: number) {
  return tenant(request, async (tx) => {
    const ds = await findDataset(tx, id);
    const v = version ?? ds.version;
    if (v > ds.version)
      throw validationFailed(`Dataset ${id} has versions 1 to ${ds.version}`, [
        { path: 'query.version', message: `must be at most ${ds.version}` },
      ]);
    return { version: v, data: (await datasetItemsAt(tx, id, v)).map(itemDto) };
  });
}

function checkSize(items: ParsedItem[], where: (i: number) => string) {
  items.forEach((it, i) => {
    for (const [k, v] of Object.entries({
      input: it.input,
      expectedOutput: it.expectedOutput,
      metadata: it.metadata,
    })) {
      if (v !== undefined && JSON.stringify(v).length > MAX_VALUE_BYTES)
        throw validationFailed(`${where(i)}: ${k} is larger than ${MAX_VALUE_BYTES} bytes`, [
          { path: `${where(i)}.${k}`, message: `at most ${MAX_VALUE_BYTES} bytes` },
        ]);
    }
  });
}

/** Adds items as the dataset's next version (one version per call), audited once. */
async function addItems(
  tx: Tx,
  request: FastifyRequest,
  id: string,
  items: (ParsedItem & { sourceRunId?: string })[],
  action: string,
  metadata: Record<string, unknown> = {},
) {
  const auth = authOf(request);
  const [ds] = await tx
    .select()
    .from(datasets)
    .where(and(eq(datasets.id, id), isNull(datasets.deletedAt)))
    .for('update');
  if (!ds) throw notFound('Dataset', id);
  const have = await countItems(tx, id, ds.version);
  if (have + items.length > MAX_IMPORT_ITEMS)
    throw new AppError(
      400,
      'dataset_full',
      `A dataset holds at most ${MAX_IMPORT_ITEMS} items; it has ${have} and ${items.length} were given`,
    );
  const version = ds.version + 1;
  const rows: ItemRow[] = [];
  // In chunks: one INSERT may bind at most 65 535 parameters.
  for (let i = 0; i < items.length; i += 1_000) {
    const chunk = (await tx
      .insert(datasetItems)
      .values(
        items.slice(i, i + 1_000).map((it) => ({
          organizationId: auth.organizationId,
          datasetId: id,
          input: it.input,
          expectedOutput: it.expectedOutput === undefined ? null : it.expectedOutput,
          metadata: it.metadata,
          sourceRunId: it.sourceRunId ?? null,
          addedInVersion: version,
          createdBy: auth.userId,
        })),
      )
      .returning()) as ItemRow[];
    rows.push(...chunk);
  }
  await tx.update(datasets).set({ version, updatedAt: new Date() }).where(eq(datasets.id, id));
  await audit(tx, request, {
    entityType: 'dataset',
    entityId: id,
    action,
    after: { version, added: rows.length },
    metadata,
  });
  return { version, data: rows.map(itemDto) };
}

export function createItems(
  request: FastifyRequest,
  id: string,
  body: {
    items: { input?: unknown; expectedOutput?: unknown; metadata?: Record<string, unknown> | undefined }[];
  },
) {
  const items = body.items.map((i) => ({
    input: i.input,
    ...(i.expectedOutput !== undefined ? { expectedOutput: i.expectedOutput } : {}),
    metadata: i.metadata ?? {},
  }));
  checkSize(items, (i) => `body.items.${i}`);
  return tenant(request, (tx) => addItems(tx, request, id, items, 'items_added'));
}

/** CSV or JSON Lines; any bad row refuses the whole import with every bad line listed (400). */
export function importItems(
  request: FastifyRequest,
  id: string,
  body: { format: 'csv' | 'jsonl'; content: string },
) {
  const { items, bad } = body.format === 'csv' ? parseCsv(body.content) : parseJsonLines(body.content);
  if (bad.length)
    throw new AppError(
      400,
      'import_rows_invalid',
      `${bad.length} row(s) could not be imported (nothing was added): ${bad
        .slice(0, 5)
        .map((b) => `line ${b.line}: ${b.message}`)
        .join('; ')}`,
      { details: { rows: bad.slice(0, 1_000) } },
    );
  if (!items.length)
    throw validationFailed('The file has no items', [{ path: 'body.content', message: 'no rows' }]);
  if (items.length > MAX_IMPORT_ITEMS)
    throw validationFailed(`At most ${MAX_IMPORT_ITEMS} items per import`, [
      { path: 'body.content', message: `${items.length} rows` },
    ]);
  checkSize(items, (i) => `item ${i + 1}`);
  return tenant(request, (tx) =>
    addItems(tx, request, id, items, 'items_imported', { format: body.format, count: items.length }),
  );
}

/** A production run's input and output as a new item (metadata records where it came from). */
export function addFromRun(
  request: FastifyRequest,
  id: string,
  body: { runId: string; useOutputAsExpected: boolean },
) {
  return tenant(request, async (tx) => {
    const [run] = await tx.select().from(workflowExecutions).where(eq(workflowExecutions.id, body.runId));
    if (!run) throw notFound('Run', body.runId);
    if (run.status !== 'completed')
      throw conflict(`Run ${body.runId} is ${run.status}: only completed runs can become dataset items`, {
        status: run.status,
      });
    const item = {
      input: run.inputData,
      ...(body.useOutputAsExpected ? { expectedOutput: run.outputData ?? null } : {}),
      metadata: { sourceRunId: run.id, workflowId: run.workflowId, workflowVersion: run.workflowVersion },
      sourceRunId: run.id,
    };
    const out = await addItems(tx, request, id, [item], 'item_added_from_run', { runId: run.id });
    return out.data[0]!;
  });
}

/** Removes an item from the next version (older versions keep it). */
export function removeItem(request: FastifyRequest, id: string, itemId: string) {
  return tenant(request, async (tx) => {
    const [ds] = await tx
      .select()
      .from(datasets)
      .where(and(eq(datasets.id, id), isNull(datasets.deletedAt)))
      .for('update');
    if (!ds) throw notFound('Dataset', id);
    const version = ds.version + 1;
    const [row] = (await tx
      .update(datasetItems)
      .set({ removedInVersion: version })
      .where(
        and(
          eq(datasetItems.id, itemId),
          eq(datasetItems.datasetId, id),
          isNull(datasetItems.removedInVersion),
        ),
      )
      .returning()) as ItemRow[];
    if (!row) throw notFound('Dataset item', itemId);
    await tx.update(datasets).set({ version, updatedAt: new Date() }).where(eq(datasets.id, id));
    await audit(tx, request, {
      entityType: 'dataset',
      entityId: id,
      action: 'item_removed',
      before: itemDto(row),
      metadata: { version },
    });
    return itemDto(row);
  });
}
