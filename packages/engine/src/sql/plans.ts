import { type SQL, sql } from 'drizzle-orm';

/** Completion batches of at most this many step outcomes are written with cached generic plans. */
export const GENERIC_PLAN_BATCH = 1;

/**
 * `SELECT <list>`, for a completion batch of `size` step outcomes. The engine's SQL functions are
 * PL/pgSQL: each statement in them reads the function's variables, so PostgreSQL plans it again at every
 * call whenever it expects a plan for those values to beat its cached generic plan. For one step of a
 * sequential run that planning is a large part of the call: completing it plans some twenty statements and
 * the triggers they fire. A batch of one therefore runs with `plan_cache_mode = force_generic_plan`, set
 * for the statement's own transaction (`set_config(…, true)`), so that each statement is planned once per
 * session. Larger batches keep planning per call, where the cost is shared and the plan sees the batch's
 * size. Measured (issue 13, README Figures): a chain of 1,000 steps used about a quarter less database CPU
 * per step; batches of up to 8, and run creation, were tried and dropped (3-step async runs at 50
 * connections were slower).
 */
export function selectForBatch(size: number, list: SQL): SQL {
  if (size > GENERIC_PLAN_BATCH) return sql`SELECT ${list}`;
  return sql`SELECT ${list} FROM (SELECT set_config('plan_cache_mode', 'force_generic_plan', true) AS s) g
    WHERE g.s IS NOT NULL`;
}
