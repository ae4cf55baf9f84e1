/**
 * Which models a gateway call tries, in order, and what it may spend: `provider:model` is one target on
 * the organization's default integration for that provider; an alias is its targets in order; a request's
 * `models` list adds fallbacks after them. The organization's monthly budget (settings.monthlyBudgetUsd)
 * minus its month's spend is the most a call may cost.
 */
import { AppError, isAppError } from '@aiops/core';
import { type Database, type ModelAliasTarget, queryRows } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { modelConfigCacheOf } from '../../services/model-config-cache.ts';

export interface Route {
  targets: ModelAliasTarget[];
  /** Remaining monthly budget in USD; undefined when the organization has none. */
  budgetUsd: number | undefined;
  cacheTtlMs: number | undefined;
}

export const isAliasName = (model: string) => !model.includes(':');

/** Errors after which the next target is tried: this target cannot answer now, another may. */
const FALL_THROUGH = new Set([
  'provider_rate_limited',
  'provider_unavailable',
  'provider_auth_failed',
  'model_not_found',
]);
export const shouldFallBack = (e: unknown) => isAppError(e) && FALL_THROUGH.has(e.code);

export const budgetRefused = (budget: number, spent: number) =>
  new AppError(
    402,
    'budget_exceeded',
    `the organization's monthly budget of $${budget} is spent ($${spent} used): raise settings.monthlyBudgetUsd or wait for next month`,
    { details: { budgetUsd: budget, spentUsd: spent } },
  );

interface RouteConfig {
  /** settings.monthlyBudgetUsd, as text; null when the organization has none. */
  budget: string | null;
  aliases: { alias: string; targets: ModelAliasTarget[]; cache_ttl_seconds: number | null }[];
}

/** The organization's budget setting and the aliases named: what the model-config cache keeps. */
async function loadRouteConfig(
  db: Database,
  organizationId: string,
  names: readonly string[],
): Promise<RouteConfig | undefined> {
  const rows = await db.withTenant(organizationId, (tx) =>
    queryRows<{ budget: string | null; aliases: RouteConfig['aliases'] | null }>(
      tx,
      sql`SELECT (o.settings->>'monthlyBudgetUsd')::numeric::text AS budget,
            ${
              names.length
                ? sql`(SELECT json_agg(json_build_object('alias', a.alias, 'targets', a.targets,
                     'cache_ttl_seconds', a.cache_ttl_seconds)) FROM model_aliases a
                     WHERE a.alias IN (${sql.join(
                       names.map((n) => sql`${n}`),
                       sql`, `,
                     )}))`
                : sql`NULL::json`
            } AS aliases
          FROM organizations o WHERE o.id = ${organizationId}`,
    ),
  );
  const row = rows[0];
  return row ? { budget: row.budget, aliases: row.aliases ?? [] } : undefined;
}

/** The month's spend so far: read at every call (it changes with every call), in the caller's organization. */
async function spentThisMonth(db: Database, organizationId: string): Promise<number> {
  const [row] = await db.withTenant(organizationId, (tx) =>
    queryRows<{ spent: string }>(
      tx,
      sql`SELECT (CASE WHEN o.monthly_reset_date IS NULL OR o.monthly_reset_date <= now()::date THEN 0
                  ELSE o.monthly_cost_used END)::text AS spent
          FROM organizations o WHERE o.id = ${organizationId}`,
    ),
  );
  return Number(row?.spent ?? 0);
}

/**
 * The targets and the most the call may spend. The aliases and the budget setting come from the process's
 * model-config cache (dropped in every process when they change); the month's spend, when the
 * organization has a budget, is read for each call: no query at all before the provider call without one.
 */
export async function resolveRoute(
  db: Database,
  organizationId: string,
  model: string,
  fallbacks: readonly string[] = [],
): Promise<Route> {
  const names = [...new Set([model, ...fallbacks].filter(isAliasName))].sort();
  const config = await modelConfigCacheOf(db).get(`route\0${organizationId}\0${names.join('\0')}`, () =>
    loadRouteConfig(db, organizationId, names),
  );
  const aliases = new Map((config?.aliases ?? []).map((a) => [a.alias, a]));
  const targets: ModelAliasTarget[] = [];
  let cacheTtlMs: number | undefined;
  for (const name of [model, ...fallbacks]) {
    if (!isAliasName(name)) {
      targets.push({ model: name });
      continue;
    }
    const alias = aliases.get(name);
    if (!alias)
      throw new AppError(
        404,
        'model_not_found',
        `The model "${name}" does not exist: name a model as provider:model (e.g. openai:gpt-4o-mini) or an alias of your organization (GET /v1/models lists them)`,
        { details: { model: name } },
      );
    if (name === model && alias.cache_ttl_seconds) cacheTtlMs = alias.cache_ttl_seconds * 1000;
    targets.push(...alias.targets);
  }
  const budget = config?.budget == null ? undefined : Number(config.budget);
  const spent = budget === undefined ? 0 : await spentThisMonth(db, organizationId);
  if (budget !== undefined && spent >= budget) throw budgetRefused(budget, spent);
  return { targets, budgetUsd: budget === undefined ? undefined : budget - spent, cacheTtlMs };
}
