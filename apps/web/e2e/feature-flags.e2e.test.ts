import { statSync } from 'node:fs';
import { testBackend } from '@aiops/testing';
import { describe, expect, it, onTestFailed } from 'vitest';
import { mailedToken, seriousA11yViolations, shot, studioPerFile } from './browser-test-support.ts';

/**
 * Feature flags in Chromium: an operator (AIOPS_PLATFORM_ADMINS, verified email) opens Admin →
 * Configuration, turns workflows off for their organization, and the Workflows entry leaves the
 * navigation and the API refuses it; as the organization's owner they turn the marketplace off in
 * Organization → Features, and back on.
 */
const OPERATOR = 'ops@example.com';
const studio = studioPerFile({ AIOPS_PLATFORM_ADMINS: OPERATOR });
const WAIT = { timeout: 30_000 };

describe('feature flags in the studio', () => {
  it('an operator turns a feature off for an organization; an owner opts out of another', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-feature-flags').then(() => undefined));
    {
      const url = studio.server.url;
      await page.goto(`${url}/signup`);
      await page.getByLabel('Your name').fill('Olga Ops');
      await page.getByLabel('Email').fill(OPERATOR);
      await page.getByLabel('Password').fill('Studio-e2e-Passw0rd!');
      await page.getByLabel('Organization name').fill('Ops Labs');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: 'Overview' }).waitFor(WAIT);
      const nav = page.getByRole('navigation', { name: 'Main' });
      // Not verified yet: not an operator, no Admin section.
      await nav.getByRole('link', { name: 'Features' }).waitFor(WAIT);
      expect(await nav.getByRole('link', { name: 'Configuration' }).count()).toBe(0);
      await expect.poll(() => mailedToken(studio.server, 'verify-email'), WAIT).not.toBeNull();
      await page.goto(`${url}/verify-email?token=${mailedToken(studio.server, 'verify-email')}`);
      await page.getByRole('status').getByText('Your email address is confirmed.').waitFor(WAIT);
      const orgId = (
        (await (await page.request.get(`${url}/api/v1/me`)).json()) as { organization: { id: string } }
      ).organization.id;

      await page.goto(`${url}/`);
      await nav.getByRole('link', { name: 'Configuration' }).click();
      await page.getByRole('heading', { name: 'Configuration' }).waitFor(WAIT);
      const add = page.getByRole('form', { name: 'Add override' });
      await add.getByLabel('Organization id').fill(orgId);
      await add.getByLabel('Key').selectOption('feature/workflows');
      await add.getByLabel('Value').selectOption('false');
      await add.getByRole('button', { name: 'Set override' }).click();
      const overrides = page.getByRole('table', { name: 'Overrides' });
      await overrides.getByText('feature/workflows').waitFor(WAIT);
      await expect
        .poll(() => nav.getByRole('link', { name: 'Workflows', exact: true }).count(), WAIT)
        .toBe(0);
      const refused = await page.request.get(`${url}/api/v1/workflows`);
      expect(refused.status()).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('feature_disabled');
      // A setting: the log level, validated (a wrong value is refused with the reason).
      const level = page.getByRole('form', { name: 'log_level' });
      await level.getByRole('textbox').fill('"loud"');
      await level.getByRole('button', { name: 'Save log_level' }).click();
      await page.getByText(/Invalid option/).waitFor(WAIT);
      await level.getByRole('textbox').fill('"debug"');
      await level.getByRole('button', { name: 'Save log_level' }).click();
      await expect.poll(() => level.getByRole('textbox').inputValue(), WAIT).toBe('"debug"');
      // Backups: on PGlite a download of the running database; on PostgreSQL a pointer to pg_dump.
      if (testBackend() === 'pglite') {
        const [download] = await Promise.all([
          page.waitForEvent('download', WAIT),
          page.getByRole('button', { name: 'Download backup' }).click(),
        ]);
        expect(download.suggestedFilename()).toMatch(/^aiops-backup-.+\.tar\.gz$/);
        const file = await download.path();
        expect(statSync(file).size).toBeGreaterThan(0);
      } else {
        await page
          .getByTestId('backups-postgres')
          .getByText(/pg_dump/)
          .waitFor(WAIT);
      }
      await shot(page, 'admin-configuration');
      await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);

      // As the organization's owner: Organization → Features.
      await nav.getByRole('link', { name: 'Features' }).click();
      const features = page.getByRole('table', { name: 'Features' });
      const workflows = features.getByRole('row').filter({ hasText: 'feature/workflows' });
      await workflows.getByText('set for this organization by the platform operator').waitFor(WAIT);
      expect(await workflows.getByRole('button').count()).toBe(0);
      await features.getByRole('button', { name: 'Turn off feature/marketplace' }).click();
      await expect.poll(() => nav.getByRole('link', { name: 'Marketplace' }).count(), WAIT).toBe(0);
      await features
        .getByRole('row')
        .filter({ hasText: 'feature/marketplace' })
        .getByText('turned off by an owner')
        .waitFor(WAIT);
      expect((await page.request.get(`${url}/api/v1/marketplace/listings`)).status()).toBe(403);
      await shot(page, 'organization-features');
      await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await features.getByRole('button', { name: 'Turn on feature/marketplace' }).click();
      await nav.getByRole('link', { name: 'Marketplace' }).waitFor(WAIT);
    }
    await context.close();
  });
});
