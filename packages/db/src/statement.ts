import { createHash } from 'node:crypto';
import { type PGlite, parse, protocol, types } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Turns } from './pglite-turns.ts';

/**
 * Runs one statement by itself (its own transaction, committed when the promise resolves), for the
 * engine's hot statements: fixed texts with their values as parameters (on PGlite each distinct text stays
 * prepared for the life of the connection). Parameters are strings, numbers, booleans, bigints, Dates or null (JSON goes as
 * a string with a `::jsonb` cast in the text). Rows come back as Drizzle's raw queries return them
 * (timestamps as strings, json and jsonb parsed); an error is the driver's own (SQLSTATE in `code`), which
 * does not list the statement's parameters in its message as Drizzle's wrapper does.
 */
export type RunStatement = <T>(query: SQL) => Promise<T[]>;

const dialect = new PgDialect();

/** The statement's text, and its parameters as text. */
function textOf(query: SQL): { text: string; values: (string | null)[] } {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return { text, values: params.map(asText) };
}

function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  throw new TypeError(`statement: unsupported parameter of type ${typeof v}; pass it as text`);
}

/**
 * PGlite: a prepared statement named after the text (`aiops_` and a hash of it), in a turn of its own
 * (`takeTurns`). The first call of a text parses it (Parse, Sync); every call then sends Bind, Describe,
 * Execute and Sync as one message buffer. PGlite's `query()` instead parses and plans the statement at
 * every call and enters the database six times (Parse, Describe, Bind, Describe, Execute, Sync), each a
 * separate await: for a step of a sequential run on PGlite that was about a fifth of its completion's time.
 */
export function pgliteStatements(client: PGlite, turns: Turns): RunStatement {
  /** Name by text, for the texts this connection has prepared. */
  const prepared = new Map<string, string>();
  // As Drizzle's PGlite driver reads rows: timestamps, dates and intervals as PostgreSQL prints them.
  const asIs = (v: string) => v;
  const parsers = {
    ...client.parsers,
    [types.TIMESTAMP]: asIs,
    [types.TIMESTAMPTZ]: asIs,
    [types.INTERVAL]: asIs,
    [types.DATE]: asIs,
  };
  const s = protocol.serialize;
  return async <T>(query: SQL) => {
    const { text, values } = textOf(query);
    return turns.exclusive(async () => {
      let name = prepared.get(text);
      if (!name) {
        // Prepared by a call of its own: a statement that does not parse is not remembered, and one that
        // parses but fails at execution is (asking to parse it again would fail: it already exists).
        name = `aiops_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
        await client.execProtocol(concat([s.parse({ name, text }), s.sync()]));
        prepared.set(text, name);
      }
      const result = await client.execProtocol(
        concat([s.bind({ statement: name, values }), s.describe({ type: 'P' }), s.execute({}), s.sync()]),
      );
      return (parse.parseResults(result.messages, parsers)[0]?.rows ?? []) as T[];
    });
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    message.set(p, at);
    at += p.length;
  }
  return message;
}

// As Drizzle's node-postgres driver reads rows: timestamps, dates and intervals (and their arrays) as text.
const AS_TEXT = new Set([
  pg.types.builtins.TIMESTAMPTZ,
  pg.types.builtins.TIMESTAMP,
  pg.types.builtins.DATE,
  pg.types.builtins.INTERVAL,
  1231,
  1115,
  1185,
  1187,
  1182,
]);
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    AS_TEXT.has(oid)
      ? (v: string) => v
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * PostgreSQL: an unnamed statement, as Drizzle sends it. Named statements were measured (1-step sync runs
 * at 50 connections, six alternated pairs) with no gain beyond the machine's noise, and a pooler in
 * transaction mode (PgBouncer before 1.21) would lose them between transactions.
 */
export function postgresStatements(pool: pg.Pool): RunStatement {
  return async <T>(query: SQL) => {
    const { text, values } = textOf(query);
    const result = await pool.query({ text, values, types: pgTypes });
    return result.rows as T[];
  };
}
