import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Evaluations in Chromium: a user creates a rule evaluator and an LLM judge (simulator, offline) on the
 * Evaluators page, tests them on samples, attaches the rule to a workflow there, and on a finished run's page sees
 * the online score appear and scores the run with the judge on demand.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('evaluations in the studio', () => {
  it('creates and tests evaluators; a run shows its online and on-demand scores', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-evaluations').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Eva');
    const api = `${studio.server.url}/api/v1`;

    await page.goto(`${studio.server.url}/evaluators`);
    const form = page.getByRole('form', { name: 'Create an evaluator' });
    await form.getByLabel('Name').fill('says answer');
    await form.getByRole('combobox', { name: /^Rule/ }).selectOption('contains');
    await form.getByLabel('Value').fill('answer');
    await form.getByRole('button', { name: 'Create evaluator' }).click();
    const rule = page.getByTestId('evaluator-says answer');
    await rule.waitFor(WAIT);
    await expect.poll(() => rule.textContent(), WAIT).toContain('threshold 50');

    const test = rule.getByRole('form', { name: 'Test says answer' });
    await test.getByLabel('Sample output').fill('Here is the Answer.');
    await test.getByRole('button', { name: 'Test' }).click();
    const result = page.getByTestId('test-result-says answer');
    await expect.poll(() => result.textContent(), WAIT).toMatch(/Score 100 \/ threshold 50.*passed/);
    await test.getByLabel('Sample output').fill('nothing here');
    await test.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => result.textContent(), WAIT).toMatch(/Score 0 \/ threshold 50.*failed/);

    // A regex the linear-time engine cannot run is refused with the reason.
    await form.getByLabel('Name').fill('lookbehind');
    await form.getByRole('combobox', { name: /^Rule/ }).selectOption('regex');
    await form.getByLabel('Pattern').fill('(?<=a)b');
    await form.getByRole('button', { name: 'Create evaluator' }).click();
    await expect.poll(() => form.getByRole('alert').textContent(), WAIT).toMatch(/linear-time engine/);

    await form.getByRole('combobox', { name: /^Kind/ }).selectOption('judge');
    await form.getByLabel('Name').fill('helpful judge');
    await form.getByRole('combobox', { name: /^Template/ }).selectOption('helpfulness');
    await form.getByLabel('Simulated answer').fill('{"score": 88, "explanation": "solves the request"}');
    await form.getByRole('button', { name: 'Create evaluator' }).click();
    const judge = page.getByTestId('evaluator-helpful judge');
    await judge.waitFor(WAIT);
    await judge.getByLabel('Sample output').fill('Restart the router.');
    await judge.getByRole('button', { name: 'Test' }).click();
    await expect
      .poll(() => page.getByTestId('test-result-helpful judge').textContent(), WAIT)
      .toMatch(/Score 88 \/ threshold 70.*passed.*solves the request/);
    // Checked once the toasts have gone (axe measures a fading toast's contrast mid-animation).
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Attach the rule to a workflow; its finished runs are scored by the worker's evaluation loop.
    const agent = await page.request.post(`${api}/agents`, {
      data: { name: 'Answerer', model: 'simulator:echo', promptTemplate: 'Your answer: {{input.q}}' },
    });
    expect(agent.status()).toBe(201);
    const imported = await page.request.post(`${api}/workflows/import`, {
      data: {
        name: 'answering',
        input: { type: 'object', properties: { q: { type: 'string' } } },
        nodes: [{ id: 'a', type: 'agent', agentId: ((await agent.json()) as { id: string }).id }],
        connections: [],
      },
    });
    expect(imported.status()).toBe(201);
    const workflow = (await imported.json()) as { id: string };
    await page.reload();
    const attach = rule.getByRole('form', { name: 'Attach says answer' });
    await attach.getByRole('combobox', { name: /^Attach to/ }).selectOption({ label: 'Workflow answering' });
    await attach.getByRole('button', { name: 'Attach' }).click();
    await expect
      .poll(() => rule.getByRole('list', { name: 'Attachments of says answer' }).textContent(), WAIT)
      .toContain('Scores workflow answering · 100% of runs');
    const run = await page.request.post(`${api}/workflows/${workflow.id}/runs`, {
      data: { input: { q: 'how do I reset it?' }, wait: 20 },
    });
    const finished = (await run.json()) as { id: string; status: string };
    expect(finished.status).toBe('completed');

    await page.goto(`${studio.server.url}/runs/${finished.id}`);
    const scores = page.getByRole('region', { name: 'Evaluations' });
    const online = scores.getByTestId('score-says answer');
    await online.waitFor(WAIT);
    await expect.poll(() => online.textContent(), WAIT).toMatch(/100.*passed.*online/);

    const evaluate = scores.getByRole('form', { name: 'Evaluate this run' });
    await evaluate.getByLabel('Evaluator').selectOption({ label: 'helpful judge' });
    await evaluate.getByRole('button', { name: 'Evaluate' }).click();
    const onDemand = scores.getByTestId('score-helpful judge');
    await onDemand.waitFor(WAIT);
    await expect
      .poll(() => onDemand.textContent(), WAIT)
      .toMatch(/88.*passed.*solves the request.*on demand/);
    await context.close();
  });
});
