import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Triggers in Chromium: a user adds a cron schedule (builder with the next five fire times), a webhook
 * (URL, secret shown once, curl) and an event trigger with a CEL filter in the editor's Triggers panel, sees
 * runs start from each, finds the event on the Events page, and sees lifecycle events delivered to a NATS
 * JetStream sink on the Event sinks page.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('triggers and events in the studio', () => {
  it('schedule, webhook and event triggers start runs; events and NATS deliveries are listed', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-triggers').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Tess');
    const api = `${studio.server.url}/api/v1`;
    const created = await page.request.post(`${api}/workflows`, {
      data: {
        status: 'active',
        definition: {
          name: 'triggered',
          nodes: [{ id: 'result', type: 'output', value: { got: '{{input}}' } }],
          connections: [],
        },
      },
    });
    expect(created.status()).toBe(201);
    const workflow = (await created.json()) as { id: string };

    // A NATS sink first, so the runs below are delivered to it.
    const prefix = `studio${Date.now()}`;
    await page.goto(`${studio.server.url}/settings/event-sinks`);
    const sinkForm = page.getByRole('form', { name: 'Add an event sink' });
    await sinkForm.getByLabel('Kind').selectOption('nats');
    await sinkForm.getByLabel('Name').fill('nats');
    await sinkForm.getByLabel('Subject prefix').fill(prefix);
    await sinkForm.getByLabel('Event types').fill('workflow_finished');
    await sinkForm.getByRole('button', { name: 'Add sink' }).click();
    await page.getByTestId('sink-nats').waitFor(WAIT);

    await page.goto(`${studio.server.url}/workflows/${workflow.id}`);
    await page.getByRole('button', { name: 'Triggers' }).click();
    const dialog = page.getByRole('dialog', { name: 'Triggers' });
    const form = dialog.getByRole('form', { name: 'Add a trigger' });

    // Schedule: the builder shows the next five fire times; a per-second custom cron fires at once.
    await form.getByLabel('Name').fill('every second');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await expect.poll(() => dialog.getByTestId('next-fire-times').locator('li').count(), WAIT).toBe(5);
    await form.getByLabel('Repeat').selectOption('custom');
    await form.getByLabel('Cron expression', { exact: true }).fill('* * * * * *');
    await expect.poll(() => dialog.getByTestId('cron-expression').textContent(), WAIT).toBe('* * * * * *');
    await form.getByRole('button', { name: 'Add trigger' }).click();
    const schedule = dialog.getByTestId('trigger-every second');
    await schedule.waitFor(WAIT);
    await expect.poll(() => schedule.getByRole('link', { name: /^run / }).count(), WAIT).toBeGreaterThan(0);
    await schedule.getByRole('button', { name: 'Disable' }).click();
    await schedule.getByRole('button', { name: 'Enable' }).waitFor(WAIT);

    // Webhook with a bearer token: URL, secret (once) and curl; calling it starts a run.
    await form.getByLabel('Kind').selectOption('webhook');
    await form.getByLabel('Name').fill('inbound');
    await form.getByLabel('Verification').selectOption('bearer');
    await form.getByRole('button', { name: 'Add trigger' }).click();
    const hook = dialog.getByTestId('trigger-inbound');
    await hook.waitFor(WAIT);
    const url = (await hook.getByTestId('webhook-url').textContent())!;
    const secret = (await hook.getByTestId('webhook-secret').textContent())!;
    expect(url).toContain('/api/v1/hooks/');
    expect(await hook.getByLabel('curl command').inputValue()).toContain(`Bearer ${secret}`);
    const called = await page.request.post(url, {
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      data: { text: 'from outside' },
    });
    expect(called.status()).toBe(202);
    await expect.poll(() => hook.getByRole('link', { name: /^run / }).count(), WAIT).toBe(1);
    expect((await page.request.post(url, { data: {} })).status()).toBe(401);

    // Event trigger with a CEL filter.
    await form.getByLabel('Kind').selectOption('event');
    await form.getByLabel('Name').fill('big orders');
    await form.getByLabel('Event type').fill('order.created');
    await form.getByLabel('Filter (CEL, optional)').fill('data.total > 100');
    await form.getByRole('button', { name: 'Add trigger' }).click();
    await dialog.getByTestId('trigger-big orders').waitFor(WAIT);
    await shot(page, 'triggers-panel');
    // Checked once the toasts have gone (axe measures a fading toast's contrast mid-animation).
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    for (const [id, total] of [
      ['order-big', 250],
      ['order-small', 5],
    ] as const) {
      const sent = await page.request.post(`${api}/events`, {
        data: { id, type: 'order.created', source: 'shop', data: { total } },
      });
      expect(sent.status()).toBe(201);
    }
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    const big = page.getByTestId('event-order-big');
    await big.waitFor(WAIT);
    await expect.poll(() => big.getByRole('link').count(), WAIT).toBe(1);
    expect(await page.getByTestId('event-order-small').getByRole('link').count()).toBe(0);
    await shot(page, 'events-page');

    // Lifecycle events of those runs reached NATS JetStream.
    await page.getByRole('link', { name: 'Event sinks' }).click();
    const sink = page.getByTestId('sink-nats');
    await expect
      .poll(
        () => sink.getByTestId('delivery-workflow_finished').filter({ hasText: 'delivered' }).count(),
        WAIT,
      )
      .toBeGreaterThan(1);
    await shot(page, 'event-sinks');
    await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await context.close();
  }, 120_000);
});
