import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { queryRows } from '@aiops/db';
import { Decimal } from 'decimal.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobScheduler } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { sendInvoice } from './delivery.ts';
import { generateInvoice, lockInvoice, markOverdue, transition } from './invoices.ts';
import { monthlyResetJob } from './jobs.ts';

let s: TestServer;
let mail: MailCatcher;
let owner: SignedUp;
let other: SignedUp;
beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ settings: { smtpUrl: mail.url } });
  owner = await signUp(s);
  other = await signUp(s);
});
afterAll(async () => {
  await s?.close();
  await mail?.close();
});

const JAN = { start: '2026-01-01', end: '2026-01-31' };

async function pdfText(buf: Uint8Array): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const fonts = `${dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'))}/standard_fonts/`;
  const doc = await pdfjs.getDocument({ data: buf, standardFontDataUrl: fonts, isEvalSupported: false })
    .promise;
  const parts: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    const content = await page.getTextContent();
    parts.push(content.items.map((it) => ('str' in it ? it.str : '')).join(' '));
  }
  await doc.destroy();
  return parts.join('\n');
}

/** Ledger rows of January as the engine and meter would have written them (owner role, like the triggers). */
async function januaryUsage(orgId: string, runs: number, tokens: number) {
  await s.database.db.system((tx) =>
    tx.execute(sql`INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start, period_end,
        occurred_at, total_cost, source_key)
      VALUES (${orgId}, 'workflow_execution', ${runs}, 'run', '2026-01-01', '2026-01-31', '2026-01-15T10:00:00Z', 0, 'test:runs'),
             (${orgId}, 'tokens', ${tokens}, 'token', '2026-01-01', '2026-01-31', '2026-01-20T10:00:00Z', 1.5, 'test:tokens')`),
  );
}

/** `owner` buys a template `other` publishes at `price` through the marketplace API; the sale is dated `at`. */
async function purchase(name: string, price: string, status: 'completed' | 'refunded', at: string) {
  const seller = { token: other.token };
  const t = await call(s, 'POST', '/api/v1/templates', {
    ...seller,
    body: {
      name,
      description: `${name} template`,
      systemPrompt: 'Help',
      modelConfig: { model: 'simulator:echo' },
    },
  });
  expect(t.status, JSON.stringify(t.body)).toBe(201);
  const listing = await call(s, 'POST', `/api/v1/templates/${t.body.id}/publish`, {
    ...seller,
    body: { price },
  });
  expect(listing.body.status, JSON.stringify(listing.body)).toBe('published');
  const p = await call(s, 'POST', `/api/v1/marketplace/listings/${listing.body.id}/purchase`, {
    token: owner.token,
    body: {},
  });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  expect(
    (await call(s, 'POST', `/api/v1/marketplace/sales/${p.body.id}/confirm`, { ...seller, body: {} })).status,
  ).toBe(200);
  if (status === 'refunded')
    expect(
      (await call(s, 'POST', `/api/v1/marketplace/sales/${p.body.id}/refund`, { ...seller, body: {} }))
        .status,
    ).toBe(200);
  await s.database.db.system((tx) =>
    tx.execute(sql`UPDATE template_purchases SET created_at = ${at} WHERE id = ${p.body.id}`),
  );
}

describe('billing settings and plans', () => {
  it('sets billing email, address and VAT id (audited), refuses bad ones with the field named', async () => {
    const bad = await call(s, 'PATCH', '/api/v1/billing/settings', {
      token: owner.token,
      body: { billingAddress: { line1: 'x', city: 'Berlin', country: 'Germany' }, vatId: 'nope' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/billingAddress\.country/);
    expect(JSON.stringify(bad.body)).toMatch(/vatId/);
    const ok = await call(s, 'PATCH', '/api/v1/billing/settings', {
      token: owner.token,
      body: {
        billingEmail: 'accounts@example.test',
        billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ billingEmail: 'accounts@example.test', vatId: null });
    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=billing', { token: owner.token });
    expect(audit.body.data[0]).toMatchObject({ action: 'updated' });
  });

  it('lists the plans; a plan change (alias accepted) sets the quota from the plan and is in the ledger', async () => {
    const plans = await call(s, 'GET', '/api/v1/billing/plans', { token: owner.token });
    expect(plans.body.map((p: { tier: string }) => p.tier)).toEqual([
      'starter',
      'professional',
      'business',
      'enterprise',
    ]);
    const changed = await call(s, 'POST', '/api/v1/billing/plan', {
      token: owner.token,
      body: { tier: 'pro' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.plan).toMatchObject({ tier: 'professional', executionCap: 50_000 });
    expect(changed.body.usage.executions).toMatchObject({ included: 10_000, cap: 50_000 });
    // Proration: this month's estimate pays the starter fee (0) until yesterday and professional from today.
    const now = new Date();
    const days = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
    const onPro = days - now.getUTCDate() + 1;
    expect(changed.body.estimate.subtotal).toBe(
      new Decimal(49).mul(onPro).div(days).toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2),
    );
    const org = await call(s, 'GET', '/api/v1/organization', { token: owner.token });
    expect(org.body.subscriptionTier).toBe('professional');
    const [q] = await s.database.db.system((tx) =>
      queryRows<{ quota: number }>(
        tx,
        sql`SELECT monthly_execution_quota AS quota FROM organizations WHERE id = ${owner.organizationId}`,
      ),
    );
    expect(q!.quota).toBe(50_000);
    const ledger = await call(s, 'GET', '/api/v1/usage?type=plan_change', { token: owner.token });
    expect(ledger.body.total.records).toBe(1);
    // a viewer-less check: the other organization cannot read this organization's billing
    const theirs = await call(s, 'GET', '/api/v1/billing', { token: other.token });
    expect(theirs.body.plan.tier).toBe('starter');
  });
});

describe('invoices', () => {
  let invoiceId: string;
  it('generates a month with overages and a marketplace purchase, taxed by the billing country', async () => {
    await januaryUsage(owner.organizationId, 10_500, 20_500_000);
    // Marketplace purchases, bought through the marketplace from the other organization, dated into the period.
    await purchase('Triage', '9.99', 'completed', '2026-01-10T12:00:00Z');
    await purchase('Refunded', '5.00', 'refunded', '2026-01-11T12:00:00Z');
    await purchase('February', '7.00', 'completed', '2026-02-01T00:00:00Z');
    // The plan changed today (not in January): January is billed on the plan in force then (starter → the
    // change's "from"), so move that change into January to bill professional for the whole month.
    await s.database.db.system((tx) =>
      tx.execute(sql`INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start, period_end,
          occurred_at, details, source_key)
        VALUES (${owner.organizationId}, 'plan_change', 0, 'change', '2026-01-01', '2026-01-31', '2026-01-01T00:00:00Z',
          '{"from": "starter", "to": "professional"}', 'test:plan')`),
    );
    const inv = await generateInvoice(s.database.db, owner.organizationId, JAN, '2026-02-01');
    invoiceId = inv.id;
    expect(inv.invoiceNumber).toMatch(/^INV-2026-\d{6}$/);
    expect(inv.lineItems.map((l) => [l.kind, l.quantity, l.amount])).toEqual([
      ['plan', '1', '49.00'],
      ['overage', '500', '2.50'],
      ['tokens', '500000', '1.50'],
      ['marketplace', '1', '9.99'],
    ]);
    expect(inv).toMatchObject({
      status: 'draft',
      subtotal: '62.99',
      tax: '11.97',
      total: '74.96',
      dueDate: '2026-03-03',
    });
    // generating again returns the same invoice (the month-end job may run twice)
    const again = await generateInvoice(s.database.db, owner.organizationId, JAN, '2026-02-01');
    expect(again.id).toBe(inv.id);
    // the other organization cannot see it, through the API or in the database (row-level security)
    expect((await call(s, 'GET', `/api/v1/billing/invoices/${inv.id}`, { token: other.token })).status).toBe(
      404,
    );
    const seen = await s.database.db.withTenant(other.organizationId, (tx) =>
      queryRows<{ n: string }>(tx, sql`SELECT count(*)::text AS n FROM invoices WHERE id = ${inv.id}`),
    );
    expect(seen[0]!.n).toBe('0');
    // the application role can neither delete an invoice nor take a number
    const why = (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message);
    const refused = await s.database.db
      .withTenant(owner.organizationId, (tx) => tx.execute(sql`DELETE FROM invoices WHERE id = ${inv.id}`))
      .then(() => 'deleted', why);
    expect(refused).toMatch(/permission denied/);
    const sequence = await s.database.db
      .withTenant(owner.organizationId, (tx) => tx.execute(sql`UPDATE invoice_sequences SET last_number = 0`))
      .then(() => 'updated', why);
    expect(sequence).toMatch(/permission denied/);
    expect((await call(s, 'GET', '/api/v1/billing/invoices', { token: other.token })).body.data).toEqual([]);
  });

  it('refuses invalid status changes; sends the PDF by mail; overdue job; paid; cancel issues a credit note', async () => {
    const db = s.database.db;
    const refused = await db
      .system(async (tx) => transition(tx, await lockInvoice(tx, invoiceId), 'paid', { by: 'test' }))
      .catch((e: { code?: string; message: string }) => e);
    expect(refused).toMatchObject({ code: 'invalid_transition' });
    const sent = await sendInvoice(db, s.app.jobDeps.mailer, invoiceId, { by: 'test' });
    expect(sent.status).toBe('sent');
    await mail.waitFor('accounts@example.test', new RegExp(sent.invoiceNumber));
    const m = mail.mails.find((x) => x.to.includes('accounts@example.test'))!;
    expect(m.text).toMatch(/application\/pdf/);
    expect(m.text).toMatch(new RegExp(`${sent.invoiceNumber}\\.pdf`));

    // not yet overdue on its due date; overdue the day after
    expect(await markOverdue(db, sent.dueDate)).toBe(0);
    expect(await markOverdue(db, '2026-03-04')).toBe(1);
    const overdue = await call(s, 'GET', `/api/v1/billing/invoices/${invoiceId}`, { token: owner.token });
    expect(overdue.body.status).toBe('overdue');

    // paying through the manual payment provider leaves it pending; the operator marks it paid
    const pay = await call(s, 'POST', `/api/v1/billing/invoices/${invoiceId}/pay`, { token: owner.token });
    expect(pay.status).toBe(200);
    expect(pay.body.payment.status).toBe('pending');
    expect(pay.body.invoice.status).toBe('overdue');
    await db.system(async (tx) =>
      transition(
        tx,
        await lockInvoice(tx, invoiceId),
        'paid',
        { by: 'operator' },
        { paidDate: '2026-03-05' },
      ),
    );
    const cancelled = await db.system(async (tx) =>
      transition(tx, await lockInvoice(tx, invoiceId), 'cancelled', { by: 'operator' }),
    );
    expect(cancelled.status).toBe('cancelled');
    const list = await call(s, 'GET', '/api/v1/billing/invoices', { token: owner.token });
    const note = list.body.data.find((i: { kind: string }) => i.kind === 'credit_note');
    expect(note).toMatchObject({ creditFor: invoiceId, total: '-74.96', status: 'sent' });
    expect(note.invoiceNumber).not.toBe(sent.invoiceNumber);
    const again = await db
      .system(async (tx) => transition(tx, await lockInvoice(tx, invoiceId), 'sent', { by: 'test' }))
      .catch((e: { code?: string }) => e);
    expect(again).toMatchObject({ code: 'invalid_transition' });
    const audit = await call(s, 'GET', '/api/v1/audit-logs?entityType=invoice', { token: owner.token });
    expect(audit.body.data.map((a: { action: string }) => a.action)).toEqual(
      expect.arrayContaining([
        'generated',
        'marked_sent',
        'marked_overdue',
        'marked_paid',
        'cancelled',
        'credit_note_issued',
      ]),
    );
  });

  it('the PDF opens and says what the invoice says', async () => {
    const res = await s.request(`/api/v1/billing/invoices/${invoiceId}/pdf`, {
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/pdf/);
    const text = await pdfText(new Uint8Array(await res.arrayBuffer()));
    const inv = (await call(s, 'GET', `/api/v1/billing/invoices/${invoiceId}`, { token: owner.token })).body;
    expect(text).toContain(inv.invoiceNumber);
    expect(text).toContain('Professional plan');
    expect(text).toContain('Marketplace: Triage v1');
    expect(text).toContain('74.96');
    expect(text).toContain('11.97');
    expect(text).toContain('USt 19% (DE)');
    expect(text).toContain('Hauptstr. 1');
  });

  it('reverse charge for a business customer with a VAT id in another EU country', async () => {
    await call(s, 'PATCH', '/api/v1/billing/settings', {
      token: other.token,
      body: {
        billingAddress: { line1: '1 rue de Rivoli', city: 'Paris', country: 'FR' },
        vatId: 'FR40303265045',
      },
    });
    await januaryUsage(other.organizationId, 10, 100);
    const inv = await generateInvoice(s.database.db, other.organizationId, JAN, '2026-02-01');
    expect(inv).toMatchObject({ subtotal: '0.00', tax: '0.00', taxRate: '0.0000' });
    expect(inv.taxNote).toMatch(/Reverse charge.*FR40303265045/);
    const res = await s.request(`/api/v1/billing/invoices/${inv.id}/pdf`, {
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect(await pdfText(new Uint8Array(await res.arrayBuffer()))).toMatch(/Reverse charge/);
  });

  it('numbers are gapless and unique under 50 concurrent generations', async () => {
    const db = s.database.db;
    const ids = await db.system(async (tx) =>
      queryRows<{ id: string }>(
        tx,
        sql`INSERT INTO organizations (name, slug, created_at)
            SELECT 'Bulk ' || g, 'bulk-' || g || '-' || ${Date.now()}, '2025-12-01' FROM generate_series(1, 50) g
            RETURNING id::text AS id`,
      ),
    );
    const made = await Promise.all(
      ids.map((o) => generateInvoice(db, o.id, { start: '2026-02-01', end: '2026-02-28' }, '2026-03-01')),
    );
    const all = await db.system((tx) =>
      queryRows<{ n: string }>(
        tx,
        sql`SELECT invoice_number AS n FROM invoices WHERE invoice_number LIKE 'INV-2026-%' ORDER BY 1`,
      ),
    );
    const numbers = all.map((r) => Number(r.n.slice(-6)));
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
    expect(new Set(made.map((m) => m.invoiceNumber)).size).toBe(50);
  });
});

describe('monthly reset job', () => {
  it('resets each organization exactly once across three worker processes, audit-logged', async () => {
    const db = s.database.db;
    await db.system((tx) =>
      tx.execute(sql`UPDATE organizations SET monthly_executions_used = 7, monthly_reset_date = '2027-01-01'
        WHERE id IN (${owner.organizationId}, ${other.organizationId})`),
    );
    const schedulers = ['w1', 'w2', 'w3'].map(
      (owner) => new JobScheduler(s.app.jobDeps, [monthlyResetJob], { owner }),
    );
    for (const at of ['2027-01-01T00:06:00Z', '2027-01-01T00:07:00Z', '2027-01-01T03:00:00Z'])
      await Promise.all(schedulers.map((x) => x.tick(new Date(at))));
    const rows = await db.system((tx) =>
      queryRows<{ id: string; used: number; reset: string; audits: string }>(
        tx,
        sql`SELECT o.id::text AS id, o.monthly_executions_used AS used, o.monthly_reset_date::text AS reset,
              (SELECT count(*) FROM audit_logs a WHERE a.organization_id = o.id AND a.action = 'monthly_reset'
                AND a.metadata->>'dueAt' = '2027-01-01T00:05:00.000Z')::text AS audits
            FROM organizations o WHERE o.id IN (${owner.organizationId}, ${other.organizationId})`,
      ),
    );
    for (const r of rows) expect(r).toMatchObject({ used: 0, reset: '2027-02-01', audits: '1' });
  });
});
