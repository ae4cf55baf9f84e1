import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Re-run from a step in Chromium: the dialog shows the prompt the step sent, an edited prompt's
 * placeholders are said to be filled in from the run (and are), and the new run names the run it re-ran.
 */
const studio = studioPerFile();

const WAIT = { timeout: 30_000 };

describe('re-run from a step', () => {
  it('edits the prompt in a dialog, says its {{…}} are filled in, and links the new run to the old one', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-rerun').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Remy');
    const api = `${studio.server.url}/api/v1`;
    const imported = await page.request.post(`${api}/workflows/import`, {
      data: {
        name: 'memo',
        input: { type: 'object', properties: { text: { type: 'string' } } },
        nodes: [
          {
            id: 'draft',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'Summarize: {{input.text}}' },
          },
          { id: 'done', type: 'output', value: '{{nodes.draft.output}}' },
        ],
        connections: [{ from: 'draft', to: 'done' }],
      },
    });
    expect(imported.status()).toBe(201);
    const workflow = (await imported.json()) as { id: string };
    const started = await page.request.post(`${api}/workflows/${workflow.id}/runs`, {
      data: { input: { text: 'the memo' } },
    });
    const first = (await started.json()) as { id: string };

    await page.goto(`${studio.server.url}/runs/${first.id}`);
    const status = page.locator('.page-header .status');
    await expect.poll(() => status.textContent(), WAIT).toBe('completed');
    await page.getByTestId('node-draft').click();
    await page.getByRole('button', { name: 'Re-run from draft' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-run from draft' });
    const prompt = dialog.getByLabel('Prompt', { exact: true });
    expect(await prompt.inputValue()).toBe('Summarize: the memo');
    expect(await dialog.getByRole('status').count()).toBe(0);
    await prompt.fill('Shorten: the memo for {{input.text}}');
    await expect
      .poll(() => dialog.getByRole('status').textContent(), WAIT)
      .toBe("{{input.text}} will be filled in from this run's data, as in the step's own prompt.");
    await shot(page, 'rerun-dialog');
    await dialog.getByRole('button', { name: 'Re-run with this prompt' }).click();

    await page.waitForURL((u) => /\/runs\/[0-9a-f-]{36}$/.test(u.pathname) && !u.pathname.endsWith(first.id));
    const second = page.url().split('/').at(-1)!;
    await expect
      .poll(() => page.getByTestId('rerun-of').textContent(), WAIT)
      .toBe(`run ${first.id.slice(0, 8)}`);
    await expect.poll(() => status.textContent(), WAIT).toBe('completed');
    const run = (await (await page.request.get(`${api}/runs/${second}`)).json()) as {
      output: unknown;
      steps: { nodeId: string; attempts: { input: { prompt?: string } }[] }[];
    };
    const draft = run.steps.find((s) => s.nodeId === 'draft')!;
    expect(draft.attempts.at(-1)!.input.prompt).toBe('Shorten: the memo for the memo');
    expect(JSON.stringify(run.output)).toContain('Shorten: the memo for the memo');

    // The link leads back to the run that was re-run.
    await page.getByTestId('rerun-of').click();
    await page.waitForURL((u) => u.pathname.endsWith(first.id));
    await context.close();
  }, 90_000);
});
