import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Evaluations in Chromium: a user creates a rule evaluator and an LLM judge (simulator, offline) on the
 * Evaluators page, tests them on samples, attaches the rule to a workflow there, and on a finished run's page sees
 * the online score appear and scores the run with the judge on demand; then scores the run by hand (👍), sees
 * the scores on the trace's spans, scores a step attempt from its span, and filters the runs list by score.
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

    // A person's 👍 with a comment on the run.
    const byHand = scores.getByRole('form', { name: 'Score this run' });
    await byHand.getByLabel('Comment').fill('clear and correct');
    await byHand.getByRole('button', { name: 'Thumbs up' }).click();
    const human = scores.getByTestId('score-human');
    await human.waitFor(WAIT);
    await expect
      .poll(() => human.textContent(), WAIT)
      .toMatch(/human.*100.*\/ 100.*passed.*clear and correct.*run · by Eva/);

    // The trace: the run span carries the run's scores; a step attempt is scored from its span.
    await page.getByRole('tab', { name: 'Trace', exact: true }).click();
    const waterfall = page.getByTestId('trace-waterfall');
    const runRow = waterfall.getByTestId('span-run');
    await expect.poll(() => runRow.getByTestId('span-score-badge').textContent(), WAIT).toMatch(/★ \d+/);
    const detail = page.getByTestId('span-detail');
    const runScores = detail.getByRole('list', { name: /^Scores of run answering/ });
    await expect.poll(() => runScores.textContent(), WAIT).toMatch(/human 100.*by Eva.*clear and correct/);
    await expect.poll(() => runScores.textContent(), WAIT).toMatch(/says answer 100/);
    await waterfall.getByTestId('span-step').first().click();
    const stepForm = detail.getByRole('form', { name: /^Score / });
    await stepForm.getByLabel('Score', { exact: true }).fill('30');
    await stepForm.getByLabel('Comment').fill('too terse');
    await stepForm.getByRole('button', { name: 'Save score' }).click();
    const stepScore = detail.getByTestId('span-score-human');
    await expect
      .poll(() => stepScore.textContent(), WAIT)
      .toMatch(/human 30 \/ 50.*failed.*by Eva.*too terse/);
    await expect
      .poll(
        () => waterfall.getByTestId('span-step').first().getByTestId('span-score-badge').textContent(),
        WAIT,
      )
      .toBe('★ 30');
    // …and the run page's table lists it with its step.
    await expect
      .poll(() => scores.getByRole('table', { name: 'Scores of this run' }).textContent(), WAIT)
      .toMatch(/step a #1 · by Eva/);

    // The runs list: filter by failed or passed scores and by a score range. A second run gets only the
    // attached rule's online score (100, passed).
    const other = await page.request.post(`${api}/workflows/${workflow.id}/runs`, {
      data: { input: { q: 'second' }, wait: 20 },
    });
    const second = (await other.json()) as { id: string };
    await expect
      .poll(async () => {
        const r = await page.request.get(`${api}/runs/${second.id}/evaluations`);
        return ((await r.json()) as { data: unknown[] }).data.length;
      }, WAIT)
      .toBe(1);
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    const filters = page.getByRole('form', { name: 'Filters' });
    const listed = () =>
      page
        .getByRole('table')
        .getByRole('link')
        .allTextContents()
        .then((l) => l.sort());
    const short = (id: string) => id.slice(0, 8);
    const both = [short(finished.id), short(second.id)].sort();
    await expect.poll(listed, WAIT).toEqual(both);
    const scoresFilter = filters.getByRole('combobox', { name: 'Scores' });
    await scoresFilter.selectOption('failed');
    await expect.poll(listed, WAIT).toEqual([short(finished.id)]);
    await expect
      .poll(
        () =>
          page
            .getByRole('row', { name: new RegExp(short(finished.id)) })
            .getByTestId('run-score')
            .textContent(),
        WAIT,
      )
      .toMatch(/failed/);
    await scoresFilter.selectOption('passed');
    await expect.poll(listed, WAIT).toEqual([short(second.id)]);
    await scoresFilter.selectOption('');
    await filters.getByLabel('Min score').fill('95');
    await expect.poll(listed, WAIT).toEqual(both);
    await filters.getByLabel('Min score').fill('');
    await filters.getByLabel('Max score').fill('30');
    await expect.poll(listed, WAIT).toEqual([short(finished.id)]);
    // the filters live in the URL: a reload keeps them
    await page.reload();
    await expect.poll(listed, WAIT).toEqual([short(finished.id)]);
    expect(await filters.getByLabel('Max score').inputValue()).toBe('30');
    await scoresFilter.selectOption('passed');
    await expect.poll(() => page.getByText('No runs match these filters').count(), WAIT).toBe(1);
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await context.close();
  });
});
