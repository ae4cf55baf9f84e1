import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Issue 18 in Chromium: a multi-model chat streaming side by side with cost per answer and ratings, a
 * collaborative round with its synthesis started from the form, the glossary (add, hybrid search, import)
 * and the insights that the ratings feed.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('chat, glossary and insights', () => {
  it('compares three models side by side as they stream, rates one, runs a collaborative round, and sees the recommendation', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-chat').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Cora');
    const api = `${studio.server.url}/api/v1`;
    const created = await page.request.post(`${api}/conversations`, {
      data: {
        title: 'Three models',
        mode: 'multi',
        participants: [
          { id: 'fast', name: 'Fast', model: 'simulator:echo', simulate: { latencyMs: 300 } },
          { id: 'slow', name: 'Slow', model: 'simulator:echo', simulate: { latencyMs: 2500 } },
          {
            id: 'json',
            name: 'Fixed',
            model: 'simulator:json',
            simulate: { output: 'Always the same answer', latencyMs: 600 },
          },
        ],
      },
    });
    expect(created.status()).toBe(201);

    await page.goto(`${studio.server.url}/chat`);
    await page.getByRole('button', { name: /Three models/ }).click();
    await page.getByLabel('Message').fill('Compare the launch plans');
    await page.getByRole('button', { name: 'Send' }).click();
    // The slow participant is still streaming while the others have answered.
    await expect.poll(() => page.getByTestId('answer').count(), WAIT).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.getByTestId('answer-streaming').count(), WAIT).toBeGreaterThanOrEqual(1);
    await shot(page, 'chat-streaming');
    await expect.poll(() => page.getByTestId('answer').count(), WAIT).toBe(3);
    expect(await page.getByTestId('answer-streaming').count()).toBe(0);
    const fixed = page.locator('[data-testid="answer"][data-participant="json"]');
    await expect.poll(() => fixed.textContent(), WAIT).toContain('Always the same answer');
    expect(await fixed.getByTestId('answer-cost').textContent()).toMatch(/\d+ tokens · .+ · .+/);
    await page.getByRole('button', { name: 'Rate Fast up' }).click();
    await expect
      .poll(() => page.locator('[data-participant="fast"]').textContent(), WAIT)
      .toContain('rated 5/5');
    await shot(page, 'chat-side-by-side');

    // A collaborative conversation from the form: two rounds of two participants, then a synthesis.
    const form = page.getByRole('region', { name: 'New conversation' });
    await form.getByLabel('Title').fill('Team round');
    await form.getByLabel(/^Mode/).selectOption('collaborative');
    await form.getByRole('spinbutton', { name: 'Rounds' }).fill('2');
    await form.getByRole('button', { name: 'Add participant' }).click();
    await form.getByRole('button', { name: 'Start conversation' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: /Team round/ }).getAttribute('aria-current'), WAIT)
      .toBe('true');
    await page.getByLabel('Message').fill('Plan the offsite');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByText('Synthesis', { exact: true }).count(), WAIT).toBe(1);
    await expect.poll(() => page.getByTestId('answer').count(), WAIT).toBe(5);
    await shot(page, 'chat-collaborative');

    await page.goto(`${studio.server.url}/insights`);
    await expect
      .poll(() => page.getByTestId('recommendation').textContent(), WAIT)
      .toContain('Recommended: simulator:echo');
    await shot(page, 'insights');
    await context.close();
  }, 120_000);

  it('adds a term, finds it by hybrid search, imports more and edits one', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-glossary').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Gus');
    await page.goto(`${studio.server.url}/glossary`);
    await page.getByRole('button', { name: 'New term' }).click();
    const form = page.getByRole('region', { name: 'New term' });
    await form.getByLabel('Term').fill('Churn');
    await form.getByLabel('Definition').fill('Customers who leave in a month.');
    await form.getByLabel('Context').selectOption('business');
    await form.getByRole('button', { name: 'Save term' }).click();
    await expect.poll(() => page.getByTestId('term-row').count(), WAIT).toBe(1);

    const imp = page.getByRole('region', { name: 'Import' });
    await imp
      .getByLabel('Data')
      .fill(
        'term,definition,is_public\nRetention,Customers who stay,true\nChurn rate,Share of customers lost per month,true\n',
      );
    await imp.getByRole('button', { name: 'Import' }).click();
    await expect.poll(() => imp.getByRole('status').textContent(), WAIT).toBe('2 created, 0 updated');
    await expect.poll(() => page.getByTestId('term-row').count(), WAIT).toBe(3);

    await page.getByLabel(/Search/).fill('churn');
    await expect.poll(() => page.getByTestId('term-match').first().textContent(), WAIT).toContain('exact');
    const terms = await page.getByTestId('term-row').locator('td:first-child button').allTextContents();
    expect(terms[0]).toBe('Churn');
    expect(terms).toContain('Churn rate');
    await shot(page, 'glossary-search');

    await page.getByRole('button', { name: 'Churn', exact: true }).click();
    const edit = page.getByRole('region', { name: 'Edit Churn' });
    await edit.getByLabel('Definition').fill('Customers who cancel in a month.');
    await edit.getByRole('button', { name: 'Save term' }).click();
    await page.getByLabel(/Search/).fill('');
    await expect.poll(() => page.getByText('Customers who cancel in a month.').count(), WAIT).toBe(1);
    await context.close();
  }, 90_000);

  it('the three pages have no serious or critical accessibility violation (axe-core)', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1280, height: 800 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    await signUpInBrowser(page, studio.server.url, 'Axel');
    const found: Record<string, unknown> = {};
    for (const [path, ready] of [
      ['/chat', 'Start conversation'],
      ['/glossary', 'New term'],
      ['/insights', null],
    ] as const) {
      await page.goto(`${studio.server.url}${path}`);
      if (ready) await page.getByRole('button', { name: ready }).waitFor(WAIT);
      else await page.getByTestId('recommendation').waitFor(WAIT);
      await page.waitForLoadState('networkidle');
      const v = await seriousA11yViolations(page);
      if (v.length) found[path] = v;
    }
    expect(found).toEqual({});
    await context.close();
  }, 90_000);
});
