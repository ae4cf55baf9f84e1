import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * External agents in Chromium: a user registers an outside agent, copies its key (shown once), the agent
 * sends a heartbeat and logs with it, and the page shows it online with its last heartbeat and logs; an
 * error heartbeat turns the badge to error.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('external agents in the studio', () => {
  it('registers an agent, shows its key once, its status from heartbeats and its logs', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-external-agents').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Xena');
    await page.getByRole('link', { name: 'External agents' }).click();
    const form = page.getByRole('form', { name: 'Register an external agent' });
    await form.getByLabel('Name').fill('Nightly ETL');
    await form.getByLabel('Heartbeat every (seconds)').fill('30');
    await form.getByLabel('Grace (seconds)').fill('10');
    await form.getByRole('button', { name: 'Register agent' }).click();
    const key = (await page.getByTestId('agent-key').textContent({ timeout: 30_000 }))!;
    expect(key).toMatch(/^agk_/);
    const card = page.getByTestId('external-Nightly ETL');
    await card.waitFor(WAIT);
    expect(await card.getByTestId('agent-state').textContent()).toBe('unknown');
    expect(await card.getByTestId('last-heartbeat').textContent()).toBe('never');

    // The agent reports with its key, from "outside" (no session cookie: a fresh request context).
    const agentId = (
      await page.request.get(`${studio.server.url}/api/v1/external-agents`).then((r) => r.json())
    ).data[0].agentId as string;
    const outside = await studio.browser.newContext();
    const api = `${studio.server.url}/api/v1/agents/${agentId}`;
    const auth = { authorization: `Bearer ${key}` };
    expect(
      (
        await outside.request.post(`${api}/heartbeat`, {
          headers: auth,
          data: { status: 'ok', version: '1.4.0' },
        })
      ).status(),
    ).toBe(200);
    for (const [status, message] of [
      ['success', 'loaded 120 rows'],
      ['warning', 'slow source'],
    ] as const) {
      const r = await outside.request.post(`${api}/logs`, {
        headers: auth,
        data: { status, message, durationMs: 42 },
      });
      expect(r.status()).toBe(201);
    }
    await expect.poll(() => card.getByTestId('agent-state').textContent(), WAIT).toBe('online');
    expect(await card.getByTestId('last-heartbeat').textContent()).not.toBe('never');
    await card.getByTestId('log-warning').waitFor(WAIT);
    expect(await card.getByTestId('log-success').textContent()).toContain('loaded 120 rows');
    await shot(page, 'external-agents');

    await outside.request.post(`${api}/heartbeat`, { headers: auth, data: { status: 'error' } });
    await expect.poll(() => card.getByTestId('agent-state').textContent(), WAIT).toBe('error');

    // An internal (llm) agent: agent rules read its workflow steps, it has no heartbeat.
    const summarizer = await page.request.post(`${studio.server.url}/api/v1/agents`, {
      data: { name: 'Summarizer', model: 'simulator:echo', promptTemplate: 'Sum up {{input.text}}' },
    });
    expect(summarizer.status()).toBe(201);

    // An alert rule on two failures in a row: the alert opens once, and is resolved by hand.
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const rules = page.getByRole('form', { name: 'Add an alert rule' });
    await rules.getByLabel('Name').fill('ETL failing');
    await rules.getByRole('combobox', { name: /^Agent/ }).selectOption({ label: 'Nightly ETL' });
    await rules.getByLabel('Condition').selectOption('consecutive_failures');
    await rules.getByRole('spinbutton', { name: 'Failures' }).fill('2');
    await rules.getByLabel('Email to (comma-separated)').fill('ops@example.com');
    // The preview replays the agent's last 7 days of logs through the rule (no failures yet: 0).
    await rules.getByRole('button', { name: 'Preview last 7 days' }).click();
    await expect
      .poll(() => page.getByTestId('rule-preview').textContent(), WAIT)
      .toMatch(/^Would have fired 0 times over the last 7 days \(2 results, 1 subject\)/);
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await page.getByTestId('rule-ETL failing').waitFor(WAIT);
    expect(await page.getByTestId('rule-ETL failing').textContent()).toContain('2 failures in a row');
    // A second rule with every windowed field: error rate on the organization's runs.
    await rules.getByLabel('Name').fill('Org error rate');
    await rules.getByLabel('Subject').selectOption('organization');
    await rules.getByLabel('Condition').selectOption('error_rate');
    await rules.getByLabel('Threshold (% failed)').fill('25');
    await rules.getByLabel('Window (minutes)').fill('30');
    await rules.getByLabel('Minimum results').fill('5');
    await rules.getByLabel('Severity').selectOption('critical');
    // The form keeps the last rule's channels; this one goes to a webhook only.
    await rules.getByLabel('Email to (comma-separated)').fill('');
    await rules.getByLabel('Webhook URL (Standard Webhooks)').fill('https://hooks.example.com/alerts');
    await rules.getByRole('button', { name: 'Add rule' }).click();
    expect(await page.getByTestId('webhook-secret').textContent(WAIT)).toMatch(/^whsec_/);
    expect(await page.getByTestId('rule-Org error rate').textContent()).toContain(
      'error rate over a window above 25% (30 min, ≥ 5 results) · organization · critical · webhook · event sinks',
    );
    // Evaluation scores and the monthly budget: the form shows each condition's own fields.
    await rules.getByLabel('Webhook URL (Standard Webhooks)').fill('');
    await rules.getByLabel('Name').fill('Scores dropped');
    await rules.getByLabel('Condition').selectOption('eval_score');
    await rules.getByLabel('Threshold (mean score 0–100)').fill('70');
    await rules.getByLabel('Evaluator (empty: all)').fill('helpfulness');
    await rules.getByLabel('Window (minutes)').fill('120');
    await rules.getByLabel('Minimum scores').fill('3');
    await rules.getByRole('button', { name: 'Preview last 7 days' }).click();
    await expect
      .poll(() => page.getByTestId('rule-preview').textContent(), WAIT)
      .toMatch(/^Would have fired 0 times over the last 7 days \(0 results/);
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await page.getByTestId('rule-Scores dropped').waitFor(WAIT);
    expect(await page.getByTestId('rule-Scores dropped').textContent()).toContain(
      'evaluation score mean over a window below 70 (helpfulness) (120 min, ≥ 3 results) · organization',
    );
    await rules.getByLabel('Name').fill('Budget 80%');
    await rules.getByLabel('Condition').selectOption('budget');
    expect(await rules.getByLabel('Window (minutes)').count()).toBe(0);
    await rules.getByLabel('Threshold (% of the monthly budget)').fill('80');
    await rules.getByRole('button', { name: 'Preview last 7 days' }).click();
    await expect
      .poll(() => page.getByTestId('rule-preview').textContent(), WAIT)
      .toContain('the organization has no monthly budget (it would not fire)');
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await page.getByTestId('rule-Budget 80%').waitFor(WAIT);
    expect(await page.getByTestId('rule-Budget 80%').textContent()).toContain(
      'monthly budget spent at 80% · organization',
    );
    // An internal agent's cost per hour (its workflow steps): heartbeat rules are not offered for it.
    await rules.getByLabel('Name').fill('Summarizer spend');
    await rules.getByLabel('Subject').selectOption('agent');
    await rules.getByRole('combobox', { name: /^Agent/ }).selectOption({ label: 'Summarizer' });
    const offered = await rules
      .getByLabel('Condition')
      .locator('option')
      .evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(offered).toEqual(['consecutive_failures', 'error_rate', 'p95_latency', 'cost', 'eval_score']);
    await rules.getByLabel('Condition').selectOption('cost');
    await rules.getByLabel('Threshold (cost)').fill('2');
    await rules.getByLabel('Window (minutes)').fill('60');
    await rules.getByLabel('Minimum results').fill('1');
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await page.getByTestId('rule-Summarizer spend').waitFor(WAIT);
    expect(await page.getByTestId('rule-Summarizer spend').textContent()).toContain(
      'cost over a window above 2 (60 min, ≥ 1 results) · agent',
    );
    for (let i = 0; i < 3; i++) {
      await outside.request.post(`${api}/logs`, {
        headers: auth,
        data: { status: 'error', message: `fail ${i}` },
      });
    }
    const alert = page.getByTestId('alert-ETL failing');
    await alert.waitFor(WAIT);
    expect(await alert.count()).toBe(1);
    expect(await alert.textContent()).toContain('open');
    await shot(page, 'alerts');
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    // The status board shows the open alert as a badge on the agent.
    await page.getByRole('link', { name: 'External agents', exact: true }).click();
    await expect.poll(() => card.getByTestId('alert-badge').textContent(), WAIT).toBe('1 open alert');
    // The board's agent list refetches on its own interval (the badge reads the alerts): wait for it.
    await expect
      .poll(() => card.getByTestId('sparkline').getAttribute('aria-label'), WAIT)
      .toMatch(/^Recent results: \d+ success, 3 error, 1 warning$/);
    // The agents list shows the badge too (on any agent: external or internal).
    await page.getByRole('link', { name: 'Agents', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: 'Nightly ETL' });
    await expect.poll(() => row.getByTestId('alert-badge').textContent(), WAIT).toBe('1 open alert');
    expect(
      await page.getByRole('row').filter({ hasText: 'Summarizer' }).getByTestId('alert-badge').count(),
    ).toBe(0);
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await alert.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => alert.textContent(), WAIT).toContain('acknowledged');
    await page.getByLabel('Status').selectOption('resolved');
    await expect.poll(() => alert.count(), WAIT).toBe(0);
    await page.getByLabel('Status').selectOption('unresolved');
    await alert.waitFor(WAIT);
    await alert.getByRole('button', { name: 'Resolve' }).click();
    await alert.getByLabel('Resolution comment').fill('restarted the ETL');
    await alert.getByRole('button', { name: 'Confirm resolve' }).click();
    await expect.poll(() => alert.count(), WAIT).toBe(0);
    await page.getByLabel('Status').selectOption('');
    await expect.poll(() => alert.textContent(), WAIT).toContain('resolved: restarted the ETL');
    await page.getByRole('link', { name: 'External agents' }).click();

    // Reloading does not show the key again.
    await page.reload();
    await card.waitFor(WAIT);
    expect(await page.getByTestId('agent-key').count()).toBe(0);
    expect(await page.content()).not.toContain(key);
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await outside.close();
    await context.close();
  }, 240_000);
});
