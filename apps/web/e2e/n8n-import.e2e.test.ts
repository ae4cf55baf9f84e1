import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * n8n import in Chromium: a user pastes a real n8n export (IF v1 nodes after a Code node) into the import
 * dialog, reads the per-node report (converted, dropped) and opens the imported workflow.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };
const FIXTURE = path.resolve(
  import.meta.dirname,
  '../../server/src/modules/workflows/fixtures/n8n/if-v1-number.json',
);

describe('n8n import in the studio', () => {
  it('imports an n8n export and shows what became of each node', async () => {
    const context = await studio.browser.newContext({
      viewport: { width: 1400, height: 900 },
      bypassCSP: true,
    });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-n8n-import').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Nina');
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('button', { name: 'Import' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('textbox').fill(readFileSync(FIXTURE, 'utf8'));
    await dialog.getByRole('button', { name: 'Import' }).click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor(WAIT);
    const doc = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { nodes: unknown[] };
    expect(await page.getByRole('table', { name: 'Import report' }).locator('tbody tr').count()).toBe(
      doc.nodes.length,
    );
    expect(await summary.textContent()).toMatch(
      /^If node unit tests: \d+ converted, \d+ approximated, 1 dropped$/,
    );
    const code = page.getByTestId('report-Code');
    expect(await code.getByText('dropped').count()).toBe(1);
    expect(await code.textContent()).toContain('JavaScript is not run');
    expect(await page.getByTestId('report-IF Smaller').getByText('converted').count()).toBe(1);
    await shot(page, 'n8n-import-report');
    await page.getByRole('button', { name: 'Open workflow' }).click();
    await expect.poll(() => page.locator('.wf-name').textContent(), WAIT).toBe('If node unit tests');
  });
});
