import { badRequest } from '@aiops/core';
import { and, type Column, eq, lt, or, type SQL, sql } from 'drizzle-orm';

/**
 * Keyset pagination over (created_at DESC, id DESC). The cursor carries the timestamp with microseconds
 * (JavaScript dates keep only milliseconds, which would skip or repeat rows).
 */
export interface Cursor {
  t: string;
  id: string;
}

export const cursorTime = (column: Column) =>
  sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    if (
      typeof c.t === 'string' &&
      /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(c.t) &&
      typeof c.id === 'string' &&
      /^[0-9a-f-]{36}$/.test(c.id)
    ) {
      return c;
    }
  } catch {
    // fall through
  }
  throw badRequest(
    'query.cursor is not a cursor of this list: pass nextCursor from the previous page unchanged',
    {
      issues: [{ path: 'query.cursor', message: 'is not a valid cursor' }],
    },
  );
}

/** The WHERE condition for the page after `cursor`. */
export function after(createdAt: Column, id: Column, cursor: string | undefined): SQL | undefined {
  if (!cursor) return undefined;
  const c = decodeCursor(cursor);
  return or(
    lt(createdAt, sql`${c.t}::timestamptz`),
    and(eq(createdAt, sql`${c.t}::timestamptz`), lt(id, c.id)),
  );
}

/** Cuts the extra row fetched to know whether a next page exists, and makes its cursor. */
export function page<T extends { id: string; cursorT: string }>(rows: T[], limit: number) {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  const last = data.at(-1);
  return { data, nextCursor: more && last ? encodeCursor({ t: last.cursorT, id: last.id }) : null };
}
