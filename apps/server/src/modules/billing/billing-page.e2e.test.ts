import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { DEFAULT_STUDIO_DIR } from '../../http/studio.ts';
import { startTestServer, type TestServer } from '../../test-support.ts';
import { sendInvoice } from './delivery.ts';
import { generateInvoice, previousPeriod } from './invoices.ts';

/**
 * The Billing page in Chromium, against an in-process server (so the test can make last month's invoice
 * the way the month-end job does): plan and allowance bars, usage chart, plan change, billing details,
 * and the invoice's PDF downloaded from the list.
 */
const ROOT = path.resolve(import.meta.dirname, '../../../../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'studio');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const WAIT = { timeout: 30_000 };

let s: TestServer;
let browser: Browser;
beforeAll(async () => {
  execFileSync(process.execPath, [path.join(ROOT, 'apps/web/scripts/ensure-build.mjs')], {
    stdio: 'inherit',
  });
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  [s, browser] = await Promise.all([
    startTestServer({ studioDir: DEFAULT_STUDIO_DIR, worker: true }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] }),
  ]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

describe('billing page', () => {
  it('shows plan, usage bars and chart, changes the plan, saves details, downloads an invoice PDF', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    onTestFailed(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'failed-billing.png'), fullPage: true });
    });
    await page.goto(`${s.url}/signup`);
    await page.getByLabel('Your name').fill('Bill');
    await page.getByLabel('Email').fill(`bill-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('Studio-e2e-Passw0rd!');
    await page.getByLabel('Organization name').fill('Bill Labs');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    // Two runs this month, through the API with the browser's session.
    const api = `${s.url}/api/v1`;
    const wf = await page.request.post(`${api}/workflows`, {
      data: {
        name: 'billed',
        status: 'active',
        definition: {
          name: 'billed',
          nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'hello' } }],
        },
      },
    });
    expect(wf.status()).toBe(201);
    const { id: workflowId } = (await wf.json()) as { id: string };
    for (let i = 0; i < 2; i++) {
      const r = await page.request.post(`${api}/workflows/${workflowId}/runs`, {
        data: { input: {}, wait: 20 },
      });
      expect(((await r.json()) as { status: string }).status).toBe('completed');
    }
    const me = (await (await page.request.get(`${api}/me`)).json()) as { organization: { id: string } };
    const orgId = me.organization.id;

    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: 'Billing', exact: true }).waitFor();
    expect(await page.getByTestId('plan-name').textContent()).toBe('Starter');
    await expect.poll(() => page.getByTestId('bar-runs').textContent(), WAIT).toContain('2 / 500 (0%)');
    const bar = page.getByRole('progressbar', { name: 'Workflow runs' });
    expect(await bar.getAttribute('aria-valuenow')).toBe('0');
    expect(await page.getByTestId('bar-seats').textContent()).toContain('1 / 3');
    // the chart drew bars for this month's days
    await expect
      .poll(() => page.locator('[data-testid="usage-charts"] .recharts-bar-rectangle').count(), WAIT)
      .toBeGreaterThan(0);

    // Billing details: a bad country is refused in words, a good one saved.
    await page.getByLabel('Billing email').fill('ap@bill.example');
    await page.getByLabel('Address').fill('Hauptstr. 1');
    await page.getByLabel('City').fill('Berlin');
    await page.getByLabel('Country (2 letters; decides the tax)').fill('D');
    await page.getByRole('button', { name: 'Save billing details' }).click();
    await expect
      .poll(() => page.getByRole('alert').first().textContent(), WAIT)
      .toMatch(/ISO 3166-1 alpha-2/);
    await page.getByLabel('Country (2 letters; decides the tax)').fill('DE');
    await page.getByRole('button', { name: 'Save billing details' }).click();
    await page.getByText('Billing details saved.').waitFor(WAIT);

    // Plan change to Professional: the bars follow the new allowances at once.
    await page.getByRole('form', { name: 'Change plan' }).locator('select').selectOption('professional');
    await page.getByRole('button', { name: 'Change plan' }).click();
    await expect.poll(() => page.getByTestId('plan-name').textContent(), WAIT).toBe('Professional');
    await expect.poll(() => page.getByTestId('bar-runs').textContent(), WAIT).toContain('2 / 10,000');

    // Last month's invoice, made and mailed as the month-end job does.
    const period = previousPeriod(new Date());
    await s.database.db.system((tx) =>
      tx.execute(sql`INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start, period_end,
          occurred_at, source_key) VALUES (${orgId}, 'workflow_execution', 12, 'run', ${period.start}, ${period.end},
          ${`${period.start}T12:00:00Z`}, 'e2e:runs')`),
    );
    const inv = await generateInvoice(s.database.db, orgId, period);
    await sendInvoice(s.database.db, s.app.jobDeps.mailer, inv.id, { by: 'test' });
    await page.reload();
    const row = page.getByTestId('invoice-row').first();
    await row.waitFor(WAIT);
    expect(await row.textContent()).toContain(inv.invoiceNumber);
    expect(await row.textContent()).toContain('sent');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'billing.png'), fullPage: true });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('link', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${inv.invoiceNumber}.pdf`);
    const file = await download.path();
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');
    await context.close();
  });
});
