import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { type Database, invoices, openDb, organizations } from '@aiops/db';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-cli.ts';

const children: ChildProcess[] = [];
let dir: string;
let pgUrl: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-billing-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

const dataDir = () => path.join(dir, 'data');
const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LOG_LEVEL: 'warn',
  ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
});
const run = (args: string[]) => runCli([...args, '--data-dir', dataDir()], env(), dir, children);
const open = (): Promise<Database> =>
  pgUrl ? openDb({ kind: 'postgres', url: pgUrl }) : openDb({ kind: 'pglite', dataDir: dataDir() });

/** Each command is a process opening the database (about 3 s on PGlite): hence the long timeout. */
describe(`aiops billing on ${testBackend()}`, () => {
  it('marks a sent invoice paid, refuses paying it twice, and cancels it with a credit note', async () => {
    const migrated = run(['migrate']);
    expect(await migrated.exited).toBe(0);
    let db = await open();
    const number = `INV-2099-${String(Date.now() % 1_000_000).padStart(6, '0')}`;
    let orgId: string;
    try {
      orgId = await db.system(async (tx) => {
        const [org] = await tx
          .insert(organizations)
          .values({ name: 'Billed', slug: `billed-${Date.now()}` })
          .returning();
        await tx.insert(invoices).values({
          organizationId: org!.id,
          invoiceNumber: number,
          status: 'sent',
          periodStart: '2099-01-01',
          periodEnd: '2099-01-31',
          subtotal: '10.00',
          tax: '0.00',
          total: '10.00',
          issueDate: '2099-02-01',
          dueDate: '2099-03-03',
          lineItems: [],
        });
        return org!.id;
      });
    } finally {
      await db.close();
    }
    // the operator's view of every organization's usage in a month, from the ledger
    db = await open();
    try {
      await db.system((tx) =>
        tx.execute(sql`INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start, period_end,
            occurred_at, total_cost, source_key)
          VALUES (${orgId}, 'workflow_execution', 7, 'run', '2099-01-01', '2099-01-31', '2099-01-05T00:00:00Z', 0, 'cli:runs'),
                 (${orgId}, 'tokens', 1234, 'token', '2099-01-01', '2099-01-31', '2099-01-05T00:00:00Z', 0.25, 'cli:tokens')`),
      );
    } finally {
      await db.close();
    }
    const usage = run(['billing', 'usage', '--month', '2099-01', '--json']);
    expect(await usage.exited).toBe(0);
    const rows = JSON.parse(usage.out()) as { organizationId: string }[];
    expect(rows.find((r) => r.organizationId === orgId)).toMatchObject({
      name: 'Billed',
      runs: 7,
      tokens: 1234,
      modelCost: '0.250000',
    });
    const badMonth = run(['billing', 'usage', '--month', '2099-13']);
    expect(await badMonth.exited).toBe(1);
    expect(badMonth.err()).toMatch(/YYYY-MM/);

    const paid = run(['billing', 'mark-paid', number, '--date', '2099-02-10']);
    expect(await paid.exited).toBe(0);
    expect(paid.out()).toContain(`invoice ${number} is paid`);
    const again = run(['billing', 'mark-paid', number]);
    expect(await again.exited).toBe(1);
    expect(again.err()).toMatch(/paid cannot become paid/);
    const cancelled = run(['billing', 'cancel', number]);
    expect(await cancelled.exited).toBe(0);
    db = await open();
    try {
      const rows = await db.system((tx) =>
        tx.select().from(invoices).where(eq(invoices.organizationId, orgId)),
      );
      const original = rows.find((r) => r.invoiceNumber === number)!;
      expect(original).toMatchObject({ status: 'cancelled', paidDate: '2099-02-10' });
      expect(rows.find((r) => r.kind === 'credit_note')).toMatchObject({
        creditFor: original.id,
        total: '-10.00',
      });
    } finally {
      await db.close();
    }
  }, 300_000);
});
