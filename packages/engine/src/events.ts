import type { Tx } from '@aiops/db';
import { sql } from 'drizzle-orm';

/** NOTIFY with a JSON array payload, split so each stays under PostgreSQL's 8000-byte limit. */
export async function notify(tx: Tx, channel: string, ids: string[] = []): Promise<void> {
  if (!ids.length) {
    await tx.execute(sql`SELECT pg_notify(${channel}, '')`);
    return;
  }
  for (let i = 0; i < ids.length; i += 150) {
    await tx.execute(sql`SELECT pg_notify(${channel}, ${JSON.stringify(ids.slice(i, i + 150))})`);
  }
}
