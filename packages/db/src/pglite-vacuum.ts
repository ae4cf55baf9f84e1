import type { Turns } from './pglite-turns.ts';

/** What a pass did to one table, and how long the connection was held for it. */
export interface VacuumPass {
  table: string;
  /** VACUUM (dead row versions and index entries removed, old transaction ids frozen) or ANALYZE. */
  action: 'vacuum' | 'analyze';
  ms: number;
}

/**
 * The tables past PostgreSQL's own autovacuum thresholds (its defaults: a table is vacuumed when its dead
 * rows exceed 50 + 20 % of its rows, when rows inserted since its last vacuum exceed 1,000 + 20 %, or when
 * its oldest unfrozen transaction id is older than autovacuum_freeze_max_age; analyzed when rows changed
 * since its last analyze exceed 50 + 10 %). `reltuples` is -1 before a table's first vacuum or analyze,
 * counted as 0 as autovacuum does. Partitions are tables here; a partitioned parent has no rows of its own.
 */
const DUE_TABLES = `
  SELECT name, vacuum, analyze_ FROM (
    SELECT format('%I.%I', s.schemaname, s.relname) AS name, s.n_dead_tup AS dead,
      s.n_dead_tup > 50 + 0.2 * t.n
        OR s.n_ins_since_vacuum > 1000 + 0.2 * t.n
        OR age(c.relfrozenxid) > current_setting('autovacuum_freeze_max_age')::bigint AS vacuum,
      s.n_mod_since_analyze > 50 + 0.1 * t.n AS analyze_
    FROM pg_stat_user_tables s
    JOIN pg_class c ON c.oid = s.relid
    CROSS JOIN LATERAL (SELECT greatest(c.reltuples, 0) AS n) t
    WHERE c.relkind IN ('r', 'm')) d
  WHERE vacuum OR analyze_
  ORDER BY dead DESC`;

/**
 * The statistics target of the pass's ANALYZE (PostgreSQL's default is 100, a sample of 30,000 rows; 10
 * samples 3,000). Each ANALYZE holds PGlite's one connection: measured after 15,000 two-step runs, the
 * default took 120-370 ms per table (usage_records, event_outbox, agent_executions) while every request
 * waited; 10 takes 29-43 ms. The engine's queries find rows by ids and indexed keys; coarser statistics
 * serve them (PGlite had none at all before).
 */
const ANALYZE_TARGET = 10;

/**
 * PGlite has no autovacuum: it is one backend, with no launcher process to start workers. Without it the
 * dead row versions of every update stay in the tables and their indexes for good, the planner's
 * statistics are never gathered, and nothing freezes old transaction ids before they wrap around.
 * Measured before this existed: after 30,000 two-step runs the worker's lease sweep (every second) read
 * 1,336 index pages instead of 1.
 *
 * One pass does what autovacuum would: it reads which tables are past its thresholds, then vacuums and
 * analyzes each, every statement in an exclusive turn of its own (VACUUM cannot run in a transaction, and
 * both need the owner role), so other queries run between two of them. The session goes back to `role`
 * after each.
 */
export async function vacuumDueTables(turns: Turns, role: string): Promise<VacuumPass[]> {
  const due = await turns.exclusive((raw) =>
    raw.query<{ name: string; vacuum: boolean; analyze_: boolean }>(DUE_TABLES).then((r) => r.rows),
  );
  const passes: VacuumPass[] = [];
  for (const { name, vacuum, analyze_ } of due) {
    for (const action of ['vacuum', 'analyze'] as const) {
      if (action === 'vacuum' ? !vacuum : !analyze_) continue;
      const started = performance.now();
      await turns.exclusive(async (raw) => {
        await raw.exec('RESET ROLE');
        if (action === 'analyze') await raw.exec(`SET default_statistics_target = ${ANALYZE_TARGET}`);
        try {
          await raw.exec(`${action.toUpperCase()} ${name}`);
        } finally {
          await raw.exec('RESET default_statistics_target');
          await raw.exec(`SET ROLE ${role}`);
        }
      });
      passes.push({ table: name, action, ms: performance.now() - started });
    }
  }
  return passes;
}

export interface Autovacuum {
  /** Runs a pass now (after the one in progress, if any) and returns what it did. */
  runNow(): Promise<VacuumPass[]>;
  /** No more passes (the database is closing); resolves once the one in progress has ended. */
  stop(): Promise<void>;
}

/**
 * A pass every `intervalMs` (autovacuum_naptime's default is one minute), or only on demand when false.
 * Passes never overlap. A pass that fails is reported to `onError` and the next one is tried at the next
 * interval: a failed VACUUM changes nothing.
 */
export function startAutovacuum(
  turns: Turns,
  role: string,
  intervalMs: number | false,
  onError: (e: unknown) => void,
): Autovacuum {
  let current: Promise<VacuumPass[]> = Promise.resolve([]);
  let stopped = false;
  const runNow = () => {
    current = current.catch(() => []).then(() => (stopped ? [] : vacuumDueTables(turns, role)));
    return current;
  };
  const timer =
    intervalMs === false ? undefined : setInterval(() => void runNow().catch(onError), intervalMs);
  timer?.unref();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current.catch(() => undefined);
    },
  };
}
