import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * A run's Trace and Logs tabs and the Traces page in Chromium: the waterfall of the run's spans with a
 * model span's tokens, cost and GenAI attributes; log lines that arrive live while the run goes, filtered
 * by level and searched; the run in the Traces list, found by name.
 */
const studio = studioPerFile();

const WAIT = { timeout: 30_000 };

describe('traces and logs', () => {
  it('shows the trace waterfall, tails and filters the logs, and lists the run on the Traces page', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-traces').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Tracy');
    const api = `${studio.server.url}/api/v1`;
    const imported = await page.request.post(`${api}/workflows/import`, {
      data: {
        name: 'traced triage',
        nodes: [
          { id: 'first', type: 'agent', agent: { model: 'simulator:echo', prompt: 'one' } },
          {
            id: 'slow',
            type: 'agent',
            agent: {
              model: 'simulator:echo',
              prompt: 'Classify {{nodes.first.output}}',
              simulate: { latencyMs: 4000 },
            },
          },
          { id: 'done', type: 'output', value: '{{nodes.slow.output}}' },
        ],
        connections: [
          { from: 'first', to: 'slow' },
          { from: 'slow', to: 'done' },
        ],
      },
    });
    expect(imported.status()).toBe(201);
    const workflow = (await imported.json()) as { id: string };
    const started = await page.request.post(`${api}/workflows/${workflow.id}/runs`, { data: { input: {} } });
    const run = (await started.json()) as { id: string };

    await page.goto(`${studio.server.url}/runs/${run.id}`);
    await page.getByRole('tab', { name: 'Logs' }).click();
    const lines = page.getByTestId('log-line');
    const status = page.locator('.page-header .status');
    // Live: the first step's lines show while the slow step is still running.
    await expect.poll(() => lines.filter({ hasText: 'Step agent first completed' }).count(), WAIT).toBe(1);
    expect(await status.textContent()).not.toBe('completed');
    await expect.poll(() => lines.filter({ hasText: 'Step output done completed' }).count(), WAIT).toBe(1);
    await expect.poll(() => status.textContent(), WAIT).toBe('completed');
    expect(await lines.count()).toBe(3 * 2);
    await shot(page, 'run-logs');

    await page.getByRole('combobox', { name: 'Level' }).selectOption('error,critical');
    await expect.poll(() => page.getByText('No log lines match these filters').count(), WAIT).toBe(1);
    await page.getByRole('combobox', { name: 'Level' }).selectOption('');
    await page.getByRole('searchbox', { name: 'Search logs' }).fill('out tokens');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => lines.count(), WAIT).toBe(2);
    expect(await lines.first().textContent()).toMatch(
      /Step agent first completed in \d+ ms: simulator:echo, \d+ in and \d+ out tokens/,
    );

    await page.getByRole('tab', { name: 'Trace' }).click();
    const waterfall = page.getByTestId('trace-waterfall');
    await expect.poll(() => waterfall.getByTestId('span-model').count(), WAIT).toBe(2);
    expect(await waterfall.getByTestId('span-run').count()).toBe(1);
    expect(await waterfall.getByTestId('span-step').count()).toBe(3);
    await waterfall.getByTestId('span-model').nth(1).click();
    const detail = page.getByTestId('span-detail');
    await expect.poll(() => detail.locator('h3').textContent(), WAIT).toBe('chat simulator:echo');
    expect(await detail.getByTestId('span-tokens').textContent()).toMatch(/^\d+ in · \d+ out · \d+ total$/);
    expect(await detail.getByTestId('span-cost').textContent()).toMatch(/^\$/);
    expect(await detail.getByTestId('span-attributes').textContent()).toContain('gen_ai.request.model');
    expect(await detail.textContent()).toContain('Classify');
    await shot(page, 'run-trace');

    await page.getByRole('link', { name: 'Traces', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/traces');
    const rows = page.getByTestId('trace-row');
    await expect.poll(() => rows.filter({ hasText: 'traced triage' }).count(), WAIT).toBe(1);
    await page.getByLabel('Name').fill('no such workflow');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.getByText('No traces match these filters').count(), WAIT).toBe(1);
    await page.getByLabel('Name').fill('traced');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    await shot(page, 'traces-page');
    await rows.getByRole('link', { name: 'traced triage' }).click();
    await page.waitForURL((u) => u.pathname.endsWith(run.id));
    await context.close();
  }, 120_000);
});
