import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Agent schedules in Chromium: on an external agent's page a user sets a per-second schedule with a webhook
 * URL (a local receiver), copies the signing secret shown once, and the server's worker calls the URL with
 * a Standard Webhooks signature that verifies with it; the page lists the calls as done with 200. On an
 * llm agent's page the panel takes an input instead of a URL, and lists the runs each due time started.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('agent schedules in the studio', () => {
  it('sets a schedule, shows the secret once, and the signed calls appear in the call log', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/run`;
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-agent-schedule').then(() => undefined));
    try {
      await signUpInBrowser(page, studio.server.url, 'Sched');
      const api = `${studio.server.url}/api/v1`;
      // The receiver is on loopback: the organization allows private networks for this test.
      const org = await page.request.patch(`${api}/organization`, {
        data: { settings: { allowPrivateNetworks: true } },
      });
      expect(org.status()).toBe(200);
      const agent = await page.request.post(`${api}/agents`, {
        data: { name: 'Ticker', kind: 'external', model: 'simulator:echo', promptTemplate: 'elsewhere' },
      });
      expect(agent.status()).toBe(201);
      const id = (await agent.json()).id as string;
      await page.goto(`${studio.server.url}/agents/${id}`);
      const form = page.getByRole('form', { name: 'Agent schedule' });
      await form.getByLabel('Cron').fill('* * * * * *');
      await form.getByLabel('Time zone').fill('Europe/Berlin');
      await form.getByLabel('Webhook URL').fill(url);
      await form.getByRole('button', { name: 'Save schedule' }).click();
      const secret = (await page.getByTestId('schedule-secret').textContent(WAIT))!;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      await page.getByTestId('next-due-times').waitFor(WAIT);
      const calls = page.getByRole('table', { name: 'Scheduled calls' });
      await expect.poll(() => calls.getByText('done').count(), WAIT).toBeGreaterThan(0);
      expect(received.length).toBeGreaterThan(0);
      const first = received[0]!;
      const msg = new Webhook(secret).verify(first.body, first.headers as Record<string, string>);
      expect(msg).toMatchObject({
        type: 'agent.scheduled',
        agentId: id,
        agentName: 'Ticker',
        timezone: 'Europe/Berlin',
      });
      expect(await calls.textContent()).toContain('200');
      await shot(page, 'agent-schedule');
      await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);
      // Removing the schedule stops the calls; reloading never shows the secret again.
      await page.getByRole('button', { name: 'Remove schedule' }).click();
      await page.getByRole('button', { name: 'Save schedule' }).waitFor(WAIT);
      await page.reload();
      await form.waitFor(WAIT);
      expect(await page.content()).not.toContain(secret);
      const after = received.length;
      await new Promise((r) => setTimeout(r, 3000));
      expect(received.length - after).toBeLessThanOrEqual(1);
    } finally {
      await context.close();
      receiver.close();
    }
  }, 180_000);

  it("an llm agent's schedule starts runs with its input; the panel links them", async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-agent-schedule-runs').then(() => undefined));
    try {
      await signUpInBrowser(page, studio.server.url, 'SchedRuns');
      const api = `${studio.server.url}/api/v1`;
      const agent = await page.request.post(`${api}/agents`, {
        data: { name: 'Greeter', model: 'simulator:echo', promptTemplate: 'Hello {{input.name}}' },
      });
      expect(agent.status()).toBe(201);
      const id = (await agent.json()).id as string;
      await page.goto(`${studio.server.url}/agents/${id}`);
      const form = page.getByRole('form', { name: 'Agent schedule' });
      await form.getByLabel('Cron').fill('*/2 * * * * *');
      expect(await form.getByLabel('Webhook URL').count()).toBe(0);
      await form.getByLabel('Input (JSON)').fill('[1]');
      await form.getByRole('button', { name: 'Save schedule' }).click();
      await page.getByText('Input: a JSON object').waitFor(WAIT);
      await form.getByLabel('Input (JSON)').fill('{"name": "Ada"}');
      await form.getByRole('button', { name: 'Save schedule' }).click();
      const runs = page.getByRole('table', { name: 'Scheduled runs' });
      const link = runs.getByRole('link', { name: /^run / }).first();
      await link.waitFor(WAIT);
      const runId = (await link.getAttribute('href'))!.split('/').pop()!;
      await expect
        .poll(async () => (await (await page.request.get(`${api}/runs/${runId}`)).json()).status, WAIT)
        .toBe('completed');
      const run = await (await page.request.get(`${api}/runs/${runId}`)).json();
      expect(run).toMatchObject({ triggeredBy: 'schedule', input: { name: 'Ada' }, output: 'Hello Ada' });
      await shot(page, 'agent-schedule-runs');
      await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Remove schedule' }).click();
      // The schedule fires every 2 s and the newest call is listed first: by now `link` (the first
      // row) may be a later run, so follow the link of the run checked above by its address.
      await runs.locator(`a[href="/runs/${runId}"]`).click();
      await page.waitForURL(`**/runs/${runId}`, WAIT);
    } finally {
      await context.close();
    }
  }, 180_000);
});
