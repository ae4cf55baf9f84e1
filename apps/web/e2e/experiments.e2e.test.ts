import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * The issue-16 "done when" in Chromium: a user builds a dataset from production runs (one click on each run's
 * page), saves a worse version of the workflow and sees the promotion check refuse it with the failing
 * figures, compares the two versions on the Experiments page and sees the regressions, then promotes the
 * worse version only through an owner's override with a reason, which the audit log records. An agent version
 * alone runs over the same dataset from the same form.
 */
const studio = studioPerFile();
const WAIT = { timeout: 90_000 };

describe('datasets, experiments and the promotion gate in the studio', () => {
  it('builds a dataset from runs, compares two versions, and gates the worse one', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-experiments').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Exa');
    const api = `${studio.server.url}/api/v1`;

    for (const data of [
      { name: 'mentions refund', kind: 'rule', config: { rule: 'contains', value: 'refund' } },
      { name: 'matches expected', kind: 'rule', config: { rule: 'equals_expected' } },
    ]) {
      const r = await page.request.post(`${api}/evaluators`, { data });
      expect(r.status()).toBe(201);
    }
    const created = await page.request.post(`${api}/workflows`, {
      data: {
        status: 'active',
        definition: {
          name: 'answers',
          input: { type: 'object', properties: { q: { type: 'string' } } },
          nodes: [{ id: 'out', type: 'output', value: 'Refund for {{input.q}}' }],
          promotion: {
            dataset: 'golden',
            evaluators: ['mentions refund', 'matches expected'],
            minPassRate: 0.9,
          },
        },
      },
    });
    expect(created.status()).toBe(201);
    const workflowId = ((await created.json()) as { id: string }).id;
    const runIds: string[] = [];
    for (const q of ['late parcel', 'broken cup']) {
      const r = await page.request.post(`${api}/workflows/${workflowId}/runs`, {
        data: { input: { q }, wait: 30 },
      });
      const body = (await r.json()) as { id: string; status: string };
      expect(body.status).toBe('completed');
      runIds.push(body.id);
    }

    // A dataset, filled from production runs with the run page's button.
    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    await page.getByRole('form', { name: 'Create a dataset' }).getByLabel('Name').fill('golden');
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await page.getByRole('region', { name: 'Dataset golden' }).waitFor(WAIT);
    for (const id of runIds) {
      await page.goto(`${studio.server.url}/runs/${id}`);
      const form = page.getByRole('form', { name: 'Add to dataset' });
      await form.waitFor(WAIT);
      await form.getByRole('button', { name: 'Add to dataset' }).click();
      await page.getByText('Added to golden').first().waitFor(WAIT);
    }
    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    const items = page.getByRole('table', { name: 'Items' });
    await expect.poll(() => items.locator('tbody tr').count(), WAIT).toBe(2);
    await expect.poll(() => items.textContent(), WAIT).toContain('Refund for late parcel');
    // A bad import is refused with its lines.
    const imp = page.getByRole('form', { name: 'Import items' });
    await imp.getByRole('combobox', { name: /^Format/ }).selectOption('jsonl');
    await imp.getByLabel('Content').fill('{"input":{"q":"x"}}\n{broken\n{"expected_output":"y"}');
    await imp.getByRole('button', { name: 'Import' }).click();
    const rejected = page.getByRole('list', { name: 'Rejected rows' });
    await expect
      .poll(() => rejected.textContent(), WAIT)
      .toMatch(/line 2: not valid JSON.*line 3: the "input" field is missing/);
    await expect.poll(() => items.locator('tbody tr').count(), WAIT).toBe(2);
    await shot(page, 'datasets');

    // Save a worse version in the editor: the promotion check refuses to make it current.
    await page.goto(`${studio.server.url}/workflows/${workflowId}`);
    await page.getByTestId('promotion-policy').waitFor(WAIT);
    await page.getByTestId('node-out').click();
    await page.getByLabel(/^Value/).fill('Sorry about {{input.q}}');
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const check = page.getByRole('region', { name: 'Promotion check' });
    await check.waitFor(WAIT);
    const again = check.getByRole('button', { name: 'Check again' });
    await expect
      .poll(async () => {
        if (await again.isVisible()) await again.click();
        return check.textContent();
      }, WAIT)
      .toContain('falls short of the promotion gate');
    const failing = check.getByRole('table', { name: 'Failing figures' });
    expect(await failing.textContent()).toMatch(/mentions refund.*pass rate.*0%.*90%/);
    const current = await page.request.get(`${api}/workflows/${workflowId}`);
    expect(((await current.json()) as { version: number }).version).toBe(1);
    await shot(page, 'promotion-blocked');

    // An agent to run alone over the same dataset (below).
    const agent = await page.request.post(`${api}/agents`, {
      data: {
        name: 'Refunder',
        type: 'analyzer',
        model: 'simulator:echo',
        promptTemplate: 'Refund for {{input.q}}',
      },
    });
    expect(agent.status()).toBe(201);

    // Compare the two versions on the Experiments page (another tab; the editor keeps its check).
    const tab = await context.newPage();
    onTestFailed(() => shot(tab, 'failed-experiments-tab').then(() => undefined));
    await tab.goto(`${studio.server.url}/experiments`);
    const run = tab.getByRole('form', { name: 'Run an experiment' });
    await run.getByRole('checkbox', { name: 'mentions refund' }).check();
    await run.getByRole('checkbox', { name: 'matches expected' }).check();
    for (const v of ['1', '2']) {
      await run.getByRole('spinbutton', { name: /^Version/ }).fill(v);
      await run.getByRole('button', { name: 'Run experiment' }).click();
      await tab.getByText(`golden · v${v}`, { exact: true }).first().waitFor(WAIT);
    }
    for (const v of ['1', '2'])
      await expect
        .poll(
          () =>
            tab
              .getByRole('progressbar', { name: `Progress of golden · v${v}` })
              .getAttribute('aria-valuenow'),
          WAIT,
        )
        .toBe('2');
    const cmp = tab.getByRole('form', { name: 'Compare experiments' });
    await cmp.getByRole('combobox', { name: /^Base/ }).selectOption({ label: 'golden · v1 (answers v1)' });
    await cmp
      .getByRole('combobox', { name: /^Candidate/ })
      .selectOption({ label: 'golden · v2 (answers v2)' });
    await cmp.getByRole('button', { name: 'Compare' }).click();
    await expect.poll(() => tab.getByTestId('regressions').textContent(), WAIT).toBe('2 regressions');
    const compared = tab.getByRole('table', { name: 'Items compared' });
    expect(await compared.locator('tr[data-regression="true"]').count()).toBe(2);
    expect(await compared.textContent()).toContain('Sorry about late parcel');
    await expect.poll(() => tab.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(tab)).toEqual([]);
    await shot(tab, 'experiments-compare');

    // An agent version alone over the same dataset: same form, same results.
    await run.getByRole('combobox', { name: /^Run/ }).selectOption('agent');
    await run.getByRole('combobox', { name: /^Agent/ }).selectOption({ label: 'Refunder' });
    await run.getByRole('button', { name: 'Run experiment' }).click();
    const agentRow = tab.getByRole('row').filter({ hasText: 'golden · Refunder v1' });
    await expect
      .poll(() => agentRow.textContent(), WAIT)
      .toMatch(/agent Refunder v1.*mentions refund: 100 · 100%/);
    await agentRow.getByRole('button', { name: 'Results' }).click();
    await expect
      .poll(() => tab.getByRole('table', { name: 'Results by item' }).textContent(), WAIT)
      .toContain('Refund for late parcel');

    // Only an explicit, audited override makes it current.
    const override = check.getByRole('form', { name: 'Override the promotion gate' });
    await override.getByLabel(/^Reason/).fill('legal asked for the apology wording');
    await override.getByRole('button', { name: 'Override and promote' }).click();
    await page.getByText('Promoted: version 2 is current.').waitFor(WAIT);
    const audit = await page.request.get(`${api}/audit-logs?entityType=workflow&action=promotion_overridden`);
    const rows = ((await audit.json()) as { data: { entityId: string; metadata: Record<string, unknown> }[] })
      .data;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      entityId: workflowId,
      metadata: { reason: 'legal asked for the apology wording', version: 2 },
    });
    await context.close();
  }, 600_000);
});
