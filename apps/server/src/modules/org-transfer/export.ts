/**
 * POST /organization/export: every table of `TABLES` read in the caller's tenant (row-level security
 * decides what is the organization's, and private terminology of other members stays out), secrets
 * decrypted with the server's key ring and re-encrypted under the export password, or left out.
 */
import type { SecretBox } from '@aiops/core';
import { AppError } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  type Archive,
  newSecretKey,
  type SecretKey,
  seal,
  secretAad,
} from './archive.ts';
import { TABLES, type TableSpec } from './tables.ts';

export interface ExportOptions {
  includeRuns?: boolean;
  from?: string;
  to?: string;
  /** Secrets are re-encrypted under it; without one they are left out. */
  password?: string;
}

export async function exportOrganization(
  request: FastifyRequest,
  secrets: SecretBox,
  options: ExportOptions,
): Promise<{
  archive: Archive;
  counts: Record<string, number>;
  secretsIncluded: number;
  secretsOmitted: number;
}> {
  const from = options.from ? new Date(options.from) : null;
  const to = options.to ? new Date(options.to) : null;
  if (from && to && from >= to) {
    throw new AppError(400, 'invalid_range', '`from` must be before `to`', {
      details: { field: 'body.from' },
    });
  }
  const key = options.password ? await newSecretKey(options.password) : null;
  const auth = authOf(request);
  return tenant(request, async (tx) => {
    const [org] = await queryRows<{ name: string; settings: Record<string, unknown> }>(
      tx,
      sql`SELECT name, settings FROM organizations WHERE id = ${auth.organizationId}`,
    );
    const members = await queryRows<{ user_id: string }>(
      tx,
      sql`SELECT user_id FROM memberships ORDER BY user_id`,
    );
    const tables: Record<string, Record<string, unknown>[]> = {};
    const counts: Record<string, number> = {};
    let secretsIncluded = 0;
    let secretsOmitted = 0;
    for (const spec of TABLES) {
      if (spec.runs && !options.includeRuns) continue;
      const rows = await readTable(tx, spec, auth.organizationId, from, to);
      for (const row of rows) {
        for (const s of spec.secrets ?? []) {
          const value = row[s.column];
          row[s.keyIdColumn] = null;
          if (typeof value !== 'string') continue;
          const sealed = key
            ? reseal(secrets, key, spec.name, s.column, s.aad, row.id as string, value)
            : null;
          row[s.column] = sealed;
          if (sealed) secretsIncluded++;
          else secretsOmitted++;
        }
      }
      tables[spec.name] = rows;
      counts[spec.name] = rows.length;
    }
    const archive: Archive = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      exportedAt: new Date().toISOString(),
      source: { organizationId: auth.organizationId, name: org?.name ?? '' },
      options: {
        includeRuns: options.includeRuns ?? false,
        from: from?.toISOString() ?? null,
        to: to?.toISOString() ?? null,
      },
      encryption: key?.params ?? null,
      organization: { name: org?.name ?? 'Imported organization', settings: org?.settings ?? {} },
      userIds: members.map((m) => m.user_id),
      tables,
    };
    await audit(tx, request, {
      entityType: 'organization',
      entityId: auth.organizationId,
      action: 'exported',
      metadata: { counts, includeRuns: archive.options.includeRuns, secretsIncluded, secretsOmitted },
    });
    return { archive, counts, secretsIncluded, secretsOmitted };
  });
}

function reseal(
  secrets: SecretBox,
  key: SecretKey,
  table: string,
  column: string,
  aad: (id: string) => string,
  id: string,
  ciphertext: string,
): string | null {
  try {
    return seal(key.key, secrets.decrypt(ciphertext, aad(id)), secretAad(table, column, id));
  } catch {
    return null; // not under a key of this ring: left out, like an export without password
  }
}

async function readTable(
  tx: Tx,
  spec: TableSpec,
  organizationId: string,
  from: Date | null,
  to: Date | null,
): Promise<Record<string, unknown>[]> {
  const table = sql.identifier(spec.name);
  const where: SQL[] = [sql`t.organization_id = ${organizationId}`];
  const range = (column: SQL) => {
    const parts: SQL[] = [];
    if (from) parts.push(sql`${column} >= ${from.toISOString()}::timestamptz`);
    if (to) parts.push(sql`${column} < ${to.toISOString()}::timestamptz`);
    return parts;
  };
  // Finished runs only: an imported queued or running run would be picked up by the new instance's workers.
  const finished = (alias: SQL) => sql`${alias}.status NOT IN ('queued', 'pending', 'running', 'paused')`;
  if (spec.runs && 'column' in spec.runs) {
    where.push(finished(sql`t`), ...range(sql`t.${sql.identifier(spec.runs.column)}`));
  }
  if (spec.runs && 'parentColumn' in spec.runs) {
    const inRange = [finished(sql`r`), ...range(sql`r.created_at`)];
    where.push(
      sql`t.${sql.identifier(spec.runs.parentColumn)} IN (SELECT r.id FROM workflow_executions r WHERE ${
        inRange.length ? sql.join(inRange, sql` AND `) : sql`true`
      })`,
    );
  }
  const rows = await queryRows<{ r: Record<string, unknown> }>(
    tx,
    sql`SELECT to_jsonb(t) AS r FROM ${table} t WHERE ${sql.join(where, sql` AND `)} ORDER BY t.${sql.identifier(spec.orderBy ?? 'id')}`,
  );
  return rows.map((x) => (typeof x.r === 'string' ? JSON.parse(x.r) : x.r));
}
