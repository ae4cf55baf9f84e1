import { describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Organization export and import in Chromium: a user exports their organization with a password (the file
 * downloads), uploads it on the same page, reads the dry-run report, imports it as a new organization,
 * switches to it and finds the workflow there.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('organization export and import in the studio', () => {
  it('exports, checks, imports and switches to the new organization', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-org-transfer').then(() => undefined));
    try {
      await signUpInBrowser(page, studio.server.url, 'Mover');
      const api = `${studio.server.url}/api/v1`;
      const agent = await page.request.post(`${api}/agents`, {
        data: { name: 'Helper', model: 'simulator:echo', promptTemplate: '{{input.text}}' },
      });
      expect(agent.status()).toBe(201);
      const wf = await page.request.post(`${api}/workflows`, {
        data: {
          name: 'moving-flow',
          definition: {
            name: 'moving-flow',
            nodes: [{ id: 'a', type: 'agent', agentId: (await agent.json()).id }],
          },
        },
      });
      expect(wf.status()).toBe(201);

      await page.goto(`${studio.server.url}/settings/transfer`);
      const exportForm = page.getByRole('form', { name: 'Export organization' });
      await exportForm.getByLabel('Include runs and logs').check();
      await exportForm.getByLabel('Export password (optional)').fill('moving day password');
      const download = page.waitForEvent('download', WAIT);
      await exportForm.getByRole('button', { name: 'Export organization' }).click();
      const file = await (await download).path();

      const importForm = page.getByRole('form', { name: 'Import organization' });
      await importForm.getByLabel('Export file').setInputFiles(file);
      await importForm.getByLabel('Export password').fill('wrong password');
      await importForm.getByRole('button', { name: 'Check file' }).click();
      await importForm.getByText('does not open this archive').waitFor(WAIT);
      await importForm.getByLabel('Export password').fill('moving day password');
      await importForm.getByLabel('New organization name').fill('Moved Labs');
      await importForm.getByRole('button', { name: 'Check file' }).click();
      const report = page.getByRole('table', { name: 'Import report' });
      await report.getByText('Will be created').waitFor(WAIT);
      expect(await report.getByRole('row', { name: /^workflows\s*1$/ }).count()).toBe(1);
      await shot(page, 'org-transfer-dry-run');
      await expect.poll(() => page.locator('[data-sonner-toast]').count(), WAIT).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await importForm.getByRole('button', { name: 'Import', exact: true }).click();
      await importForm.getByRole('button', { name: 'Switch to Moved Labs' }).click();
      // The session now works in the new organization (the studio's cookie was switched).
      await expect
        .poll(async () => (await (await page.request.get(`${api}/organization`)).json()).name, WAIT)
        .toBe('Moved Labs');
      await page.goto(`${studio.server.url}/workflows`);
      await page.getByText('moving-flow').first().waitFor(WAIT);
    } finally {
      await context.close();
    }
  }, 240_000);
});
