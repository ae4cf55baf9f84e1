/**
 * POST /organization/import: a new organization, owned by the caller, from an archive. The plan is made
 * first (what would be created and what is refused, and why); a dry run answers it, an import writes it
 * in one transaction. Every row gets a new id; every string equal to an old id (columns and JSON alike:
 * a workflow definition's agent ids, an agent's integration id) is rewritten to the new one; references
 * to the source's members become the importing user; references to rows not in the archive become null
 * where the column allows it, else the row is refused (and with it the rows referencing it).
 */
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '@aiops/core';
import { AppError } from '@aiops/core';
import { queryRows, type Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit } from '../../http/tenant.ts';
import { slugify } from '../auth/service.ts';
import { type Archive, openSecretKey, type SecretKey, secretAad, unseal } from './archive.ts';
import { TABLE_NAMES, TABLES } from './tables.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHUNK = 200;

export interface ImportReport {
  dryRun: boolean;
  organization: { id: string | null; name: string };
  /** Rows that will be (or were) created, per table. */
  create: Record<string, number>;
  /** Rows or tables left out, and why. */
  refused: { table: string; id?: string; reason: string }[];
  secrets: { imported: number; omitted: number };
  /** References to rows not in the archive that were cleared. */
  clearedReferences: number;
}

interface Column {
  name: string;
  notNull: boolean;
  insertable: boolean;
  /** The table a single-column foreign key on this column points at. */
  references?: string;
}

export async function importOrganization(
  request: FastifyRequest,
  secrets: SecretBox,
  archive: Archive,
  options: { password?: string; dryRun?: boolean; name?: string },
): Promise<ImportReport> {
  const userId = await importingUser(request);
  let key: SecretKey | null = null;
  if (archive.encryption) {
    if (!options.password) {
      throw new AppError(422, 'password_required', 'This archive holds secrets: send the export password', {
        details: { field: 'body.password' },
      });
    }
    key = await openSecretKey(options.password, archive.encryption);
  }
  const organizationId = randomUUID();
  const name = options.name ?? archive.organization.name;
  return request.server.db.withTenant({ organizationId, userId: userId }, async (tx) => {
    const plan = await makePlan(tx, secrets, archive, key, organizationId, userId);
    const report: ImportReport = {
      dryRun: options.dryRun ?? false,
      organization: { id: options.dryRun ? null : organizationId, name },
      create: plan.create,
      refused: plan.refused,
      secrets: plan.secrets,
      clearedReferences: plan.cleared,
    };
    if (options.dryRun) return report;
    await tx.execute(
      sql`INSERT INTO organizations (id, name, slug, settings) VALUES (${organizationId}, ${name}, ${slugify(name)}, ${JSON.stringify(archive.organization.settings)}::jsonb)`,
    );
    await tx.execute(
      sql`INSERT INTO memberships (organization_id, user_id, role) VALUES (${organizationId}, ${userId}, 'owner')`,
    );
    for (const [table, rows] of plan.rows) {
      const columns = plan.columns.get(table)!;
      for (let i = 0; i < rows.length; i += CHUNK) {
        const list = sql.join(
          columns.map((c) => sql.identifier(c)),
          sql`, `,
        );
        await tx.execute(
          sql`INSERT INTO ${sql.identifier(table)} (${list}) SELECT ${list} FROM jsonb_populate_recordset(null::${sql.identifier(table)}, ${JSON.stringify(rows.slice(i, i + CHUNK))}::jsonb)`,
        );
      }
    }
    await audit(tx, request, {
      actor: { organizationId, userId: userId },
      entityType: 'organization',
      entityId: organizationId,
      action: 'imported',
      after: { name },
      metadata: {
        sourceOrganizationId: archive.source.organizationId,
        exportedAt: archive.exportedAt,
        create: plan.create,
        refused: plan.refused.length,
      },
    });
    return report;
  });
}

/** The person who will own the new organization: the signed-in user, or the user who made the API key. */
async function importingUser(request: FastifyRequest): Promise<string> {
  const auth = authOf(request);
  if (auth.userId) return auth.userId;
  const [key] = auth.apiKeyId
    ? await request.server.db.system((tx) =>
        queryRows<{ user_id: string | null }>(
          tx,
          sql`SELECT user_id FROM api_keys WHERE id = ${auth.apiKeyId}`,
        ),
      )
    : [];
  if (!key?.user_id) {
    throw new AppError(
      403,
      'forbidden',
      "This API key belongs to no user: import with a user's key or token",
    );
  }
  return key.user_id;
}

interface Plan {
  rows: Map<string, Record<string, unknown>[]>;
  columns: Map<string, string[]>;
  create: Record<string, number>;
  refused: ImportReport['refused'];
  secrets: ImportReport['secrets'];
  cleared: number;
}

async function makePlan(
  tx: Tx,
  secrets: SecretBox,
  archive: Archive,
  key: SecretKey | null,
  organizationId: string,
  userId: string,
): Promise<Plan> {
  const plan: Plan = {
    rows: new Map(),
    columns: new Map(),
    create: {},
    refused: [],
    secrets: { imported: 0, omitted: 0 },
    cleared: 0,
  };
  for (const table of Object.keys(archive.tables)) {
    if (!TABLE_NAMES.has(table)) plan.refused.push({ table, reason: 'not a table an import restores' });
  }
  // Old id → new id, for every row of the archive, the organization and its members.
  const ids = new Map<string, string>([[archive.source.organizationId.toLowerCase(), organizationId]]);
  for (const u of archive.userIds) ids.set(u.toLowerCase(), userId);
  for (const spec of TABLES) {
    for (const row of archive.tables[spec.name] ?? []) {
      if (typeof row.id === 'string' && UUID.test(row.id) && !ids.has(row.id.toLowerCase())) {
        ids.set(row.id.toLowerCase(), randomUUID());
      }
    }
  }
  const created = new Set<string>([organizationId, userId]);
  for (const spec of TABLES) {
    const source = archive.tables[spec.name];
    if (!source?.length) continue;
    const columns = await columnsOf(tx, spec.name);
    const byName = new Map(columns.map((c) => [c.name, c]));
    const unknown = new Set<string>();
    let pending: { old: Record<string, unknown>; row: Record<string, unknown> }[] = [];
    for (const old of source) {
      if (typeof old.id !== 'string' || !UUID.test(old.id)) {
        plan.refused.push({ table: spec.name, reason: 'a row without a uuid `id`' });
        continue;
      }
      const row = remap(old, ids) as Record<string, unknown>;
      for (const k of Object.keys(row)) {
        if (!byName.has(k)) {
          unknown.add(k);
          delete row[k];
        } else if (!byName.get(k)!.insertable) delete row[k];
      }
      row.organization_id = organizationId;
      for (const s of spec.secrets ?? []) {
        const value = old[s.column];
        row[s.column] = null;
        row[s.keyIdColumn] = null;
        if (typeof value !== 'string') continue;
        if (!key) {
          plan.secrets.omitted++;
          continue;
        }
        let plaintext: string;
        try {
          plaintext = unseal(key.key, value, secretAad(spec.name, s.column, old.id));
        } catch {
          throw new AppError(
            400,
            'invalid_archive',
            `A secret of ${spec.name} ${old.id} does not decrypt: the archive was altered`,
          );
        }
        row[s.column] = secrets.encrypt(plaintext, s.aad(row.id as string));
        row[s.keyIdColumn] = secrets.currentKeyId;
        plan.secrets.imported++;
      }
      spec.onImport?.(row);
      pending.push({ old, row });
    }
    for (const k of unknown)
      plan.refused.push({ table: spec.name, reason: `column "${k}" is unknown here: left out` });
    // Rows whose references are satisfied go first; a row may reference another of its own table.
    const accepted: Record<string, unknown>[] = [];
    for (;;) {
      const next: typeof pending = [];
      for (const p of pending) {
        const missing = missingReference(p.row, columns, created, ids, false);
        if (missing) next.push(p);
        else {
          created.add(p.row.id as string);
          accepted.push(p.row);
        }
      }
      if (next.length === pending.length) break;
      pending = next;
    }
    for (const p of pending) {
      // Cannot be satisfied: clear nullable references to rows that will not exist, or refuse the row.
      const missing = missingReference(p.row, columns, created, ids, true);
      if (missing) {
        plan.refused.push({ table: spec.name, id: p.old.id as string, reason: missing });
      } else {
        created.add(p.row.id as string);
        accepted.push(p.row);
        plan.cleared++;
      }
    }
    const present = new Set<string>();
    for (const r of accepted) for (const k of Object.keys(r)) present.add(k);
    plan.rows.set(spec.name, accepted);
    plan.columns.set(spec.name, [...present]);
    plan.create[spec.name] = accepted.length;
  }
  return plan;
}

/** The first reference of `row` to a row that does not exist (yet); with `clear`, clears nullable ones. */
function missingReference(
  row: Record<string, unknown>,
  columns: Column[],
  created: Set<string>,
  ids: Map<string, string>,
  clear: boolean,
): string | null {
  for (const c of columns) {
    if (!c.references || c.name === 'organization_id') continue;
    const v = row[c.name];
    if (typeof v !== 'string' || created.has(v)) continue;
    if (c.references === 'users' || c.references === 'api_keys' || !isNew(v, ids)) {
      // Outside the archive (another instance's users, keys, listings …): nothing to point at.
      if (c.notNull) return `${c.name} references a ${c.references} row that is not in the archive`;
      if (clear || !isNew(v, ids)) row[c.name] = null;
      continue;
    }
    if (!clear) return `${c.name} waits for ${c.references}`;
    if (c.notNull) return `${c.name} references a ${c.references} row that is refused or missing`;
    row[c.name] = null;
  }
  return null;
}

const newIds = new WeakMap<Map<string, string>, Set<string>>();
function isNew(v: string, ids: Map<string, string>): boolean {
  let set = newIds.get(ids);
  if (!set) {
    set = new Set(ids.values());
    newIds.set(ids, set);
  }
  return set.has(v);
}

/** Every string equal to an old id, at any depth, becomes its new id. */
function remap(value: unknown, ids: Map<string, string>): unknown {
  if (typeof value === 'string') return value.length === 36 ? (ids.get(value.toLowerCase()) ?? value) : value;
  if (Array.isArray(value)) return value.map((v) => remap(v, ids));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = remap(v, ids);
    return out;
  }
  return value;
}

async function columnsOf(tx: Tx, table: string): Promise<Column[]> {
  const rows = await queryRows<{
    name: string;
    not_null: boolean;
    insertable: boolean;
    references: string | null;
  }>(
    tx,
    sql`SELECT a.attname AS name, a.attnotnull AS not_null,
          (a.attgenerated = '' AND a.attidentity <> 'a') AS insertable,
          (SELECT c.confrelid::regclass::text FROM pg_constraint c
            WHERE c.conrelid = a.attrelid AND c.contype = 'f' AND c.conkey = ARRAY[a.attnum]::int2[] LIMIT 1) AS references
        FROM pg_attribute a
        WHERE a.attrelid = ${table}::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  return rows.map((r) => ({
    name: r.name,
    notNull: r.not_null,
    insertable: r.insertable,
    ...(r.references ? { references: r.references.replace(/^public\./, '').replace(/"/g, '') } : {}),
  }));
}
