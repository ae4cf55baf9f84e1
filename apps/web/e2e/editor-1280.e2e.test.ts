/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * The editor at 1280 px, measured in the page: a saved four-step workflow (and a run of it) opens at a
 * zoom where the smallest text on a step is drawn at 11 px or more, handles are hit targets of 24 px or more, the
 * minimap is small and can be hidden (and stays hidden), and condition labels sit clear of the handles.
 */
const studio = studioPerFile();

const WAIT = { timeout: 20_000 };

/** The rendered size of the smallest text inside the steps: font size × the canvas's scale. */
function smallestStepText(page: Page): Promise<number> {
  return page.evaluate(() => {
    let smallest = Number.POSITIVE_INFINITY;
    for (const node of document.querySelectorAll<HTMLElement>('.react-flow__node')) {
      const scale = node.getBoundingClientRect().width / node.offsetWidth;
      const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
      for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        const el = t.parentElement;
        if (!el || !t.textContent?.trim()) continue;
        smallest = Math.min(smallest, Number.parseFloat(getComputedStyle(el).fontSize) * scale);
      }
    }
    return smallest;
  });
}

describe('the editor at 1280 px', () => {
  it('opens legible, with large handles, a small hideable minimap and labels that fit', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-editor-1280').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Lena');
    const imported = await page.request.post(`${studio.server.url}/api/v1/workflows/import`, {
      data: {
        name: 'ticket-triage',
        input: { type: 'object', properties: { ticket: { type: 'string' } } },
        nodes: [
          {
            id: 'classify',
            type: 'agent',
            agent: {
              model: 'simulator:json',
              prompt: 'Classify: {{input.ticket}}',
              output: {
                type: 'object',
                properties: { category: { type: 'string' } },
                required: ['category'],
              },
              simulate: { output: { category: 'bug' } },
            },
          },
          {
            id: 'reply',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'Reply to {{input.ticket}}' },
          },
          { id: 'spam', type: 'output', value: 'spam' },
          { id: 'done', type: 'output', value: '{{nodes.reply.output}}' },
        ],
        connections: [
          { from: 'classify', to: 'reply', condition: "nodes.classify.output.category != 'spam'" },
          { from: 'classify', to: 'spam', condition: "nodes.classify.output.category == 'spam'" },
          { from: 'reply', to: 'done' },
        ],
      },
    });
    expect(imported.status()).toBe(201);
    const { id } = (await imported.json()) as { id: string };
    await page.goto(`${studio.server.url}/workflows/${id}`);
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(4);
    await page.locator('.react-flow__viewport').waitFor();
    // fit view has run once the steps carry a transform that is not the initial one
    await expect.poll(() => smallestStepText(page), WAIT).toBeGreaterThanOrEqual(11);
    const smallest = await smallestStepText(page);
    await shot(page, 'editor-1280');

    // Handles: the dot and, around it, a hit target of at least 24 px (pointer events land on ::after).
    const hit = await page.evaluate(() => {
      const h = document.querySelector<HTMLElement>('.react-flow__handle')!;
      const after = getComputedStyle(h, '::after');
      const scale = h.getBoundingClientRect().width / h.offsetWidth;
      return (h.offsetWidth - 2 * Number.parseFloat(after.left)) * scale;
    });
    expect(hit).toBeGreaterThanOrEqual(24);

    // Condition labels wrap within the gap: none overlaps a handle or another label.
    const overlaps = await page.evaluate(() => {
      const boxes = (sel: string) =>
        [...document.querySelectorAll(sel)].map((e) => e.getBoundingClientRect());
      const labels = boxes('.edge-label');
      const handles = boxes('.react-flow__handle');
      const meet = (a: DOMRect, b: DOMRect) =>
        a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      return labels.length === 0
        ? -1
        : labels.filter(
            (l, i) => handles.some((h) => meet(l, h)) || labels.some((o, j) => j !== i && meet(l, o)),
          ).length;
    });
    expect(overlaps).toBe(0);

    // The minimap is small, and hiding it is remembered.
    const minimap = page.locator('.react-flow__minimap');
    const box = (await minimap.boundingBox())!;
    expect(box.width * box.height).toBeLessThan(160 * 100);
    await page.getByRole('button', { name: 'Minimap' }).click();
    await minimap.waitFor({ state: 'detached', ...WAIT });
    await page.reload();
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(4);
    expect(await minimap.count()).toBe(0);

    // The run of it opens on the same graph at the same legible zoom.
    const started = await page.request.post(`${studio.server.url}/api/v1/workflows/${id}/runs`, {
      data: { input: { ticket: 'my invoice is wrong' } },
    });
    const run = (await started.json()) as { id: string };
    await page.goto(`${studio.server.url}/runs/${run.id}`);
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(4);
    await expect.poll(() => smallestStepText(page), WAIT).toBeGreaterThanOrEqual(11);
    await expect.poll(() => page.locator('.page-header .status').textContent(), WAIT).toBe('completed');
    await shot(page, 'run-1280');
    console.log('editor at 1280 px', { smallestTextPx: Math.round(smallest * 10) / 10, handleHitPx: hit });
    await context.close();
  }, 90_000);
});
