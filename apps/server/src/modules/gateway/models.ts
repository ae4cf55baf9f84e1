/**
 * `GET /v1/models`: what a key can name as `model` — the organization's aliases, and the priced models of
 * the providers it has an integration for (`provider:model`), in OpenAI's list format.
 */
import { type Database, queryRows } from '@aiops/db';
import { PRICE_CATALOG } from '@aiops/providers';
import { sql } from 'drizzle-orm';

export async function listModels(db: Database, organizationId: string) {
  const [row] = await db.withTenant(organizationId, (tx) =>
    queryRows<{
      aliases: { alias: string; created: number }[] | null;
      providers: string[] | null;
    }>(
      tx,
      sql`SELECT (SELECT json_agg(json_build_object('alias', alias, 'created',
                    extract(epoch FROM created_at)::bigint) ORDER BY alias) FROM model_aliases) AS aliases,
                 (SELECT array_agg(DISTINCT provider) FROM integrations WHERE status <> 'disconnected') AS providers`,
    ),
  );
  const providers = new Set(row?.providers ?? []);
  const seen = new Set<string>();
  const catalog = PRICE_CATALOG.models
    .filter((m) => providers.has(m.model.split(':')[0]!) && !m.model.endsWith(':*') && !m.effectiveTo)
    .filter((m) => !seen.has(m.model) && seen.add(m.model))
    .map((m) => ({
      id: m.model,
      object: 'model' as const,
      created: Math.floor(Date.parse(`${m.effectiveFrom}T00:00:00Z`) / 1000),
      owned_by: m.model.split(':')[0]!,
    }));
  return {
    object: 'list' as const,
    data: [
      ...(row?.aliases ?? []).map((a) => ({
        id: a.alias,
        object: 'model' as const,
        created: Number(a.created),
        owned_by: 'organization',
      })),
      ...catalog,
    ],
  };
}
