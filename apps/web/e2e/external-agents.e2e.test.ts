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

    // An alert rule on two failures in a row: the alert opens once, and is resolved by hand.
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const rules = page.getByRole('form', { name: 'Add an alert rule' });
    await rules.getByLabel('Name').fill('ETL failing');
    await rules.getByRole('combobox', { name: /^Agent/ }).selectOption({ label: 'Nightly ETL' });
    await rules.getByLabel('Condition').selectOption('consecutive_failures');
    await rules.getByRole('spinbutton', { name: 'Failures' }).fill('2');
    await rules.getByLabel('Email to (comma-separated)').fill('ops@example.com');
    await rules.getByRole('button', { name: 'Add rule' }).click();
    await page.getByTestId('rule-ETL failing').waitFor(WAIT);
    expect(await page.getByTestId('rule-ETL failing').textContent()).toContain('2 failures in a row');
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
    await alert.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => alert.textContent(), WAIT).toContain('resolved');
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
  }, 120_000);
});
