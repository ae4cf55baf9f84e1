import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Outbound sync in Chromium: Settings → Outbound sync. A user adds a target (a local receiver that fails
 * its first batch), sees the failure as the target's status and last error, then the retry succeed with
 * the cursor moved; the batch verifies with the signing secret shown once and carries the API key as a
 * bearer token. A full resync sends the events again; editing the schedule and a test batch work.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };
const API_KEY = 'bridge-key-e2e-0123456789';

describe('outbound sync in the studio', () => {
  it('adds a target, shows a failure and its recovery, resyncs, edits and tests it', async () => {
    const received: { headers: IncomingHttpHeaders; body: string; status: number }[] = [];
    let failures = 1;
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const status = failures-- > 0 ? 503 : 200;
        received.push({ headers: req.headers, body, status });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ingest`;
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-outbound-sync').then(() => undefined));
    try {
      await signUpInBrowser(page, studio.server.url, 'Bridge');
      const api = `${studio.server.url}/api/v1`;
      // The receiver is on loopback: the organization allows private networks for this test.
      expect(
        (
          await page.request.patch(`${api}/organization`, {
            data: { settings: { allowPrivateNetworks: true } },
          })
        ).status(),
      ).toBe(200);
      const wf = await page.request.post(`${api}/workflows`, {
        data: {
          definition: {
            name: 'synced',
            nodes: [{ id: 'result', type: 'output', value: { ok: true } }],
            connections: [],
          },
        },
      });
      expect(wf.status()).toBe(201);

      await page.getByRole('link', { name: 'Outbound sync' }).click();
      const form = page.getByRole('form', { name: 'Add a sync target' });
      await form.getByLabel('Name').fill('Omni-Bridge');
      await form.getByLabel('URL').fill(url);
      await form.getByLabel('API key').fill(API_KEY);
      await form.getByLabel('Event types').fill('workflow_*');
      await form.getByLabel('Interval (seconds)').fill('3600');
      await form.getByRole('button', { name: 'Add target' }).click();
      const secret = (await page.getByTestId('sync-secret').textContent(WAIT))!;
      expect(secret).toMatch(/^whsec_/);

      const panel = page.getByTestId('sync-Omni-Bridge');
      // The first batch is refused: the status and last error show it; the retry (after about 5 s) succeeds.
      await panel.getByRole('alert').filter({ hasText: 'HTTP 503' }).waitFor(WAIT);
      await panel.getByText('success', { exact: true }).first().waitFor(WAIT);
      await expect
        .poll(async () => Number(await panel.getByTestId('cursor').textContent()), WAIT)
        .toBeGreaterThan(0);
      const ok = received.find((r) => r.status === 200)!;
      expect(ok.headers.authorization).toBe(`Bearer ${API_KEY}`);
      const batch = new Webhook(secret).verify(ok.body, ok.headers as Record<string, string>) as {
        type: string;
        events: { type: string; data: { workflowId?: string } }[];
      };
      expect(batch.type).toBe('sync.batch');
      expect(batch.events.map((e) => e.type)).toEqual(['workflow_created']);
      const attempts = panel.getByRole('table', { name: 'Recent attempts of Omni-Bridge' });
      await expect.poll(() => attempts.getByText('HTTP 503').count(), WAIT).toBe(1);
      await shot(page, 'outbound-sync');

      // Full resync: the same event is sent again.
      await panel.getByRole('button', { name: 'Full resync' }).click();
      await expect.poll(() => received.filter((r) => r.status === 200).length, WAIT).toBe(2);

      // Edit: a cron schedule instead of the interval; the API key field stays empty (unchanged).
      await panel.getByRole('button', { name: 'Edit' }).click();
      const edit = page.getByRole('form', { name: 'Edit sync target' });
      expect(await edit.getByLabel('API key').inputValue()).toBe('');
      await edit.getByLabel('Schedule').selectOption('cron');
      await edit.getByLabel('Cron', { exact: true }).fill('0 * * * *');
      await edit.getByRole('button', { name: 'Save' }).click();
      await panel.getByText('cron 0 * * * * (UTC)').waitFor(WAIT);

      await panel.getByRole('button', { name: 'Send test' }).click();
      await expect.poll(() => received.some((r) => r.body.includes('"sync.test"')), WAIT).toBe(true);
      expect(received.at(-1)!.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(await page.content()).not.toContain(API_KEY);
      await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await context.close();
      receiver.close();
    }
  }, 180_000);
});
