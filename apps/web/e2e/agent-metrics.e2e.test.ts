import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Observability in Chromium: an agent's page charts its metrics from real runs (attempts, latency
 * percentiles, tokens, error rate), and an owner changes the organization's retention periods.
 */
const studio = studioPerFile();

const WAIT = { timeout: 30_000 };

describe('agent metrics and retention settings', () => {
  it('charts an agent’s latency, tokens, cost and error rate over a chosen window', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-agent-metrics').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Mira');
    const api = `${studio.server.url}/api/v1`;
    const agent = await page.request.post(`${api}/agents`, {
      data: {
        name: 'Charted',
        type: 'analyzer',
        model: 'simulator:echo',
        promptTemplate: 'Echo {{input.text}}',
      },
    });
    expect(agent.status()).toBe(201);
    const { id: agentId } = (await agent.json()) as { id: string };
    const imported = await page.request.post(`${api}/workflows/import`, {
      data: {
        name: 'charted',
        input: { type: 'object', properties: { text: { type: 'string' } } },
        nodes: [{ id: 'say', type: 'agent', agentId }],
        connections: [],
      },
    });
    expect(imported.status()).toBe(201);
    const workflow = (await imported.json()) as { id: string };
    for (const text of ['one', 'two', 'three']) {
      const run = await page.request.post(`${api}/workflows/${workflow.id}/runs`, {
        data: { input: { text }, wait: 20 },
      });
      expect(((await run.json()) as { status: string }).status).toBe('completed');
    }

    await page.goto(`${studio.server.url}/agents/${agentId}`);
    const panel = page.getByRole('region', { name: 'Agent metrics' });
    const figure = (label: string) =>
      panel.locator('div', { has: page.getByText(label, { exact: true }) }).locator('dd');
    await expect.poll(() => figure('Attempts').textContent(), WAIT).toBe('3');
    await expect.poll(() => figure('p95 latency').textContent(), WAIT).toMatch(/\d+(\.\d+)? (ms|s)$/);
    await expect
      .poll(async () => Number((await figure('Tokens').textContent())!.replace(/,/g, '')), WAIT)
      .toBeGreaterThan(0);
    await expect.poll(() => figure('Error rate').textContent(), WAIT).toBe('0.0%');
    for (const title of ['Latency (ms): p50, p95, p99', 'Tokens', 'Cost (USD)', 'Error rate'])
      expect(await panel.locator('figcaption', { hasText: title }).count()).toBeGreaterThan(0);
    // The token chart has a bar for today.
    await expect.poll(() => panel.locator('.recharts-bar-rectangle').count(), WAIT).toBeGreaterThan(0);

    await panel.getByLabel('Metrics window').selectOption('24h');
    await expect.poll(() => figure('Attempts').textContent(), WAIT).toBe('3');
    // By hour now: the x axis is labelled with hours.
    await expect.poll(() => panel.getByText(/^\d\d-\d\d \d\d:00$/).count(), WAIT).toBeGreaterThan(0);
    await shot(page, 'agent-metrics');
    await context.close();
  });

  it('shows the retention defaults and saves an owner’s change', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-retention').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Otto');
    await page.getByRole('link', { name: 'Data retention' }).click();
    const form = page.getByRole('form', { name: 'Retention' });
    const logs = form.getByLabel('Logs (days)');
    await expect.poll(() => logs.inputValue(), WAIT).toBe('90');
    expect(await form.getByLabel('Metrics (days)').inputValue()).toBe('730');
    expect(await form.getByLabel('Executions (days)').inputValue()).toBe('365');
    await logs.fill('30');
    await form.getByRole('button', { name: 'Save retention' }).click();
    await expect.poll(() => page.getByText('Retention saved').count(), WAIT).toBeGreaterThan(0);
    await page.reload();
    await expect
      .poll(() => page.getByRole('form', { name: 'Retention' }).getByLabel('Logs (days)').inputValue(), WAIT)
      .toBe('30');
    expect(await page.getByText('This organization has its own periods.').count()).toBe(1);
    await shot(page, 'retention-settings');
    await context.close();
  });
});
