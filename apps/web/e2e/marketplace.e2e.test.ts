import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * The catalog and the marketplace in Chromium, with two organizations: the seller creates an agent from a
 * catalog type, packages it as a template and publishes it at 9.99; the buyer buys it, the seller confirms
 * the payment (fee and payout shown), the buyer installs it, makes an agent of it, runs it and rates it.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('agent catalog and marketplace', () => {
  it('catalog → agent → template → published → bought → confirmed → installed → run → rated', async () => {
    const url = studio.server.url;
    const sellerCtx = await studio.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const buyerCtx = await studio.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const seller = await sellerCtx.newPage();
    const buyer = await buyerCtx.newPage();
    onTestFailed(async () => {
      await shot(seller, 'failed-marketplace-seller');
      await shot(buyer, 'failed-marketplace-buyer');
    });
    await signUpInBrowser(seller, url, 'Sella');
    await signUpInBrowser(buyer, url, 'Bruno');

    // Seller: an agent from a catalog type (its required param asked for)
    await seller.getByRole('link', { name: 'Agent catalog' }).click();
    await seller.getByRole('heading', { name: 'Agent catalog' }).waitFor();
    await seller.getByRole('button', { name: 'Create agent from Support Ticket Triage' }).click();
    const dialog = seller.getByRole('dialog', { name: 'New agent from Support Ticket Triage' });
    await dialog.getByLabel('Model').fill('simulator:echo');
    await dialog.getByLabel('The product the tickets are about').fill('Acme Cloud');
    await dialog.getByRole('button', { name: 'Create agent' }).click();
    await seller.waitForURL((u) => /\/agents\/[0-9a-f-]{36}$/.test(u.pathname), WAIT);
    await expect
      .poll(() => seller.getByTestId('agent-origin').textContent(), WAIT)
      .toContain('Made from the catalog type support_ticket_triage');
    await shot(seller, 'catalog-agent');

    // Seller: package it as a template, publish it at 9.99
    await seller.getByRole('link', { name: 'My templates' }).click();
    await seller.getByLabel('Agent', { exact: true }).selectOption({ label: 'Support Ticket Triage' });
    await seller.getByLabel('Capabilities (comma-separated)').fill('classification, reply_drafting');
    await seller.getByLabel('Allowed providers (empty: any)').fill('simulator');
    await seller.getByRole('button', { name: 'Make template' }).click();
    const row = seller.getByTestId('template-Support Ticket Triage');
    await row.waitFor(WAIT);
    await row.getByLabel('Price of Support Ticket Triage in USD').fill('9.99');
    await row.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => row.locator('.status').textContent(), WAIT).toBe('published');
    await shot(seller, 'my-templates-published');

    // Buyer: browse, open, buy
    await buyer.getByRole('link', { name: 'Marketplace' }).click();
    await buyer.getByLabel('Capability').fill('classification');
    await buyer.getByRole('link', { name: 'Support Ticket Triage' }).click();
    await buyer.getByRole('heading', { name: 'Support Ticket Triage' }).waitFor(WAIT);
    expect(await buyer.getByTestId('listing-price').textContent()).toBe('9.99 USD');
    expect(await buyer.content()).not.toContain('You triage support tickets');
    await buyer.getByRole('button', { name: 'Buy for 9.99 USD' }).click();
    const purchase = buyer.getByTestId('my-purchase');
    await expect.poll(() => purchase.locator('.status').textContent(), WAIT).toBe('pending');

    // Seller: sees the sale with its exact fee and payout, confirms the (invoice) payment
    await seller.reload();
    await seller.getByRole('button', { name: 'Confirm payment' }).click();
    await expect.poll(() => seller.getByTestId('total-Payouts').textContent(), WAIT).toBe('6.99');
    expect(await seller.getByTestId('total-Platform fees (30%)').textContent()).toBe('3.00');
    expect(await seller.getByTestId('total-Gross').textContent()).toBe('9.99');
    await shot(seller, 'sales-and-payouts');

    // Buyer: install, make an agent of it, run it, rate it
    await buyer.reload();
    await buyer.getByRole('button', { name: 'Install' }).click();
    await buyer.getByLabel('Agent name').fill('Bought triage');
    await buyer.getByRole('button', { name: 'Create agent from it' }).click();
    await buyer.waitForURL((u) => /\/agents\/[0-9a-f-]{36}$/.test(u.pathname), WAIT);
    const agentId = buyer.url().split('/').at(-1)!;
    await expect
      .poll(() => buyer.getByTestId('agent-origin').textContent(), WAIT)
      .toContain('Made from template Support Ticket Triage (version 1) bought on the marketplace.');
    const api = `${url}/api/v1`;
    const wf = await buyer.request.post(`${api}/workflows`, {
      data: { definition: { name: 'bought', nodes: [{ id: 'a', type: 'agent', agentId }] } },
    });
    expect(wf.status()).toBe(201);
    const run = await buyer.request.post(
      `${api}/workflows/${((await wf.json()) as { id: string }).id}/runs`,
      {
        data: { input: { text: 'The dashboard is down' }, wait: 20 },
      },
    );
    expect(((await run.json()) as { status: string }).status).toBe('completed');

    await buyer.goBack();
    await buyer.getByRole('heading', { name: 'Support Ticket Triage' }).waitFor(WAIT);
    await buyer.getByLabel('Your rating').selectOption('4');
    await buyer.getByLabel('Review (optional)').fill('Sorted our queue in a day');
    await buyer.getByRole('button', { name: 'Rate' }).click();
    await expect
      .poll(() => buyer.getByTestId('listing-rating').textContent(), WAIT)
      .toBe('★ 4.00 from 1 rating');
    await buyer.getByRole('list', { name: 'Reviews' }).getByText('Sorted our queue in a day').waitFor(WAIT);
    await shot(buyer, 'listing-rated');

    // Seller: the run counted as a use of the template
    await seller.reload();
    await expect
      .poll(
        async () =>
          await seller.getByTestId('template-Support Ticket Triage').locator('td').nth(3).textContent(),
        WAIT,
      )
      .toBe('1');
    await sellerCtx.close();
    await buyerCtx.close();
  }, 180_000);
});
