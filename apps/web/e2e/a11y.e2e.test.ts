import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import {
  type A11yViolation,
  seriousA11yViolations,
  shot,
  signUpInBrowser,
  studioPerFile,
} from './browser-test-support.ts';

/**
 * axe-core on every page of the studio, signed out and signed in, in light and dark mode: no serious or
 * critical violation (contrast, names of controls, labels, landmarks, ARIA).
 */
const studio = studioPerFile();

const WAIT = { timeout: 20_000 };

async function check(
  page: Page,
  path: string,
  ready: (p: Page) => Promise<unknown>,
  found: Record<string, A11yViolation[]>,
) {
  await page.goto(`${studio.server.url}${path}`);
  await ready(page);
  await page.waitForLoadState('networkidle');
  const v = await seriousA11yViolations(page);
  if (v.length) found[path] = v;
}

const heading = (name: string | RegExp) => (p: Page) =>
  p.getByRole('heading', { name }).first().waitFor(WAIT);

describe('accessibility (axe-core)', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`every page has no serious or critical violation (${scheme})`, async () => {
      const context = await studio.browser.newContext({
        viewport: { width: 1280, height: 800 },
        colorScheme: scheme,
        // axe-core is injected as an inline script, which the studio's CSP (script-src 'self') refuses.
        bypassCSP: true,
      });
      const page = await context.newPage();
      onTestFailed(() => shot(page, `failed-a11y-${scheme}`).then(() => undefined));
      const found: Record<string, A11yViolation[]> = {};

      await check(page, '/login', (p) => p.getByRole('button', { name: 'Sign in' }).waitFor(WAIT), found);
      await check(
        page,
        '/signup',
        (p) => p.getByRole('button', { name: 'Create account' }).waitFor(WAIT),
        found,
      );
      await check(page, '/forgot-password', heading('Reset your password'), found);
      await check(page, '/reset-password?token=not-a-token', heading('Choose a new password'), found);
      await check(page, '/verify-email', heading('Confirm your email address'), found);
      await check(page, '/accept-invite?token=not-a-token', heading('Join the organization'), found);

      await signUpInBrowser(page, studio.server.url, `Axe${scheme}`);
      const imported = await page.request.post(`${studio.server.url}/api/v1/workflows/import`, {
        data: {
          name: 'a11y-flow',
          nodes: [
            { id: 'ask', type: 'agent', agent: { model: 'simulator:echo', prompt: 'Hello' } },
            { id: 'done', type: 'output', value: '{{nodes.ask.output}}' },
          ],
          connections: [{ from: 'ask', to: 'done', condition: 'true' }],
        },
      });
      const workflow = (await imported.json()) as { id: string };
      const run = (await (
        await page.request.post(`${studio.server.url}/api/v1/workflows/${workflow.id}/runs`, {
          data: { input: {} },
        })
      ).json()) as { id: string };

      await check(page, '/', heading('Overview'), found);
      await check(page, '/agents', heading('Agents'), found);
      await check(page, '/agents/new', (p) => p.getByLabel('Name', { exact: true }).waitFor(WAIT), found);
      await check(page, '/workflows', (p) => p.getByRole('link', { name: 'a11y-flow' }).waitFor(WAIT), found);
      await check(page, '/workflows/new', (p) => p.locator('.react-flow__pane').waitFor(WAIT), found);
      await check(page, `/workflows/${workflow.id}`, (p) => p.getByTestId('node-ask').waitFor(WAIT), found);
      await check(page, '/runs', (p) => p.locator('table tbody tr').first().waitFor(WAIT), found);
      await check(
        page,
        `/runs/${run.id}`,
        (p) => expect.poll(() => p.locator('.page-header .status').textContent(), WAIT).toBe('completed'),
        found,
      );
      for (const [path, name] of [
        ['/settings/members', /^Members of/],
        ['/settings/integrations', 'Provider integrations'],
        ['/settings/usage', 'Usage & budget'],
        ['/settings/billing', 'Billing'],
        ['/settings/retention', 'Data retention'],
        ['/settings/api-keys', 'API keys'],
        ['/settings/audit', 'Audit log'],
        ['/settings/security', 'Security'],
        ['/events', 'Events'],
        ['/settings/event-sinks', 'Event sinks'],
        ['/catalog', 'Agent catalog'],
        ['/marketplace', 'Marketplace'],
        ['/templates', 'My templates'],
        ['/evaluators', 'Evaluators'],
      ] as const) {
        await check(page, path, heading(name), found);
      }
      const template = (await (
        await page.request.post(`${studio.server.url}/api/v1/templates`, {
          data: {
            name: 'a11y-template',
            description: 'd',
            systemPrompt: 's',
            modelConfig: { model: 'simulator:echo' },
          },
        })
      ).json()) as { id: string };
      const listing = (await (
        await page.request.post(`${studio.server.url}/api/v1/templates/${template.id}/publish`, {
          data: { price: '1' },
        })
      ).json()) as { id: string };
      await check(page, `/marketplace/${listing.id}`, heading('a11y-template'), found);
      expect(found).toEqual({});
      await context.close();
    }, 120_000);
  }
});
