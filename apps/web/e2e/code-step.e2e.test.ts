import { describe, expect, it, onTestFailed } from 'vitest';
import { connectHandles, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Code steps in Chromium: a code node added from the palette, its code typed into the CodeMirror editor,
 * tested with sample input (result, console line, time, memory), saved, run to completion; and a runaway
 * loop stopped with code_timeout, shown in the run view.
 */
const studio = studioPerFile();

const WAIT = { timeout: 30_000 };

describe('code steps in the studio', () => {
  it('writes, tests, saves and runs a code step; a runaway loop fails with code_timeout', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-code-step').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Ada');
    const api = `${studio.server.url}/api/v1`;

    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('link', { name: 'Build your first workflow' }).click();
    await page.locator('.react-flow__pane').waitFor();
    await page.getByTestId('palette-code').click();
    await page.getByTestId('palette-output').click();
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(2);
    await connectHandles(page, 'code_1', 'output_1');
    await page.getByTestId('node-output_1').click();
    await page.getByLabel(/^Value/).fill('{{nodes.code_1.output}}');

    // The code panel: CodeMirror with JavaScript highlighting; switch to TypeScript and type the code.
    await page.getByTestId('node-code_1').click();
    const editor = page.getByTestId('code-editor');
    expect(await editor.locator('.cm-content').textContent()).toBe('return input;');
    await page.getByLabel('Language').selectOption('typescript');
    expect(await editor.getAttribute('data-language')).toBe('typescript');
    await editor.locator('.cm-content').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    const code =
      'const n: number = input.n ?? input.text.length; console.log("doubling", n); return { doubled: n * 2 };';
    await page.keyboard.type(code);
    expect(await editor.locator('.cm-content').textContent()).toBe(code);
    // Highlighted: keywords and strings are separate styled spans.
    expect(await editor.locator('.cm-content span').count()).toBeGreaterThan(3);

    await page.getByLabel('Sample input (JSON)').fill('{"n": 21}');
    await page.getByRole('button', { name: 'Test with sample input' }).click();
    const result = page.getByRole('region', { name: 'Test result' });
    await result.waitFor(WAIT);
    expect(await result.getByText('Succeeded').count()).toBe(1);
    expect(JSON.parse((await result.getByTestId('code-test-output').textContent()) ?? '')).toEqual({
      doubled: 42,
    });
    expect(await result.getByRole('list', { name: 'Console' }).locator('li').allTextContents()).toEqual([
      '[info] doubling 21',
    ]);
    expect(await result.textContent()).toMatch(
      /in \d+ ms \(CPU \d+ ms\), memory \d+(\.\d)? (KB|MB) · limits/,
    );
    await shot(page, 'code-step-test');

    // A bad sample input is refused in the panel, without a request.
    await page.getByLabel('Sample input (JSON)').fill('{n: 21');
    await page.getByRole('button', { name: 'Test with sample input' }).click();
    await page.getByText(/^Sample input is not valid JSON/).waitFor();
    await page.getByLabel('Sample input (JSON)').fill('{"n": 21}');

    // Save, check the stored definition, run it and watch it complete.
    await expect.poll(() => page.locator('.step-issues').count(), WAIT).toBe(0);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await page.getByText('v1', { exact: true }).waitFor();
    const workflowId = page.url().split('/').at(-1)!;
    const saved = (await (await page.request.get(`${api}/workflows/${workflowId}`)).json()) as {
      definition: { nodes: { id: string; type: string; language?: string; code?: string }[] };
    };
    const node = saved.definition.nodes.find((n) => n.id === 'code_1')!;
    expect({ type: node.type, language: node.language, code: node.code }).toEqual({
      type: 'code',
      language: 'typescript',
      code,
    });
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByLabel(/^Text/).fill('hello');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    const runId = page.url().split('/').at(-1)!;
    await expect.poll(() => page.locator('.page-header .status').textContent(), WAIT).toBe('completed');
    // The run's input has no n, so the code doubles the length of its text.
    const run = (await (await page.request.get(`${api}/runs/${runId}`)).json()) as { output: unknown };
    expect(run.output).toEqual({ doubled: 'hello'.length * 2 });
    await page.getByTestId('node-code_1').click();
    await shot(page, 'code-step-run');

    // A runaway loop: stopped by the tier's CPU limit, the step and the run fail with code_timeout.
    const imported = await page.request.post(`${api}/workflows/import`, {
      data: {
        name: 'runaway',
        nodes: [
          { id: 'spin', type: 'code', code: 'while (true) {}' },
          { id: 'done', type: 'output', value: '{{nodes.spin.output}}' },
        ],
        connections: [{ from: 'spin', to: 'done' }],
      },
    });
    expect(imported.status()).toBe(201);
    const runaway = (await imported.json()) as { id: string };
    await page.goto(`${studio.server.url}/workflows/${runaway.id}`);
    await page.getByTestId('node-spin').click();
    expect(await page.getByTestId('code-editor').locator('.cm-content').textContent()).toBe(
      'while (true) {}',
    );
    await page.getByRole('button', { name: 'Test with sample input' }).click();
    const failed = page.getByRole('region', { name: 'Test result' });
    await failed.getByText('Failed: code_timeout').waitFor(WAIT);
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await expect
      .poll(() => page.locator('.page-header .status').textContent(), { timeout: 60_000 })
      .toBe('failed');
    await page.getByRole('alert').filter({ hasText: 'code_timeout' }).first().waitFor(WAIT);
    await page.getByTestId('node-spin').click();
    await page.getByLabel('Step spin').getByText('code_timeout').first().waitFor(WAIT);
    await shot(page, 'code-step-timeout');
    await context.close();
  }, 120_000);

  it('creates a code agent on the agent page, tests its code, and a workflow runs it (not as a model call)', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-code-agent').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Linus');
    const api = `${studio.server.url}/api/v1`;
    await page.goto(`${studio.server.url}/agents/new`);
    await page.getByLabel('Name', { exact: true }).fill('Shouter');
    await page.getByLabel('Kind').selectOption('code');
    const editor = page.getByTestId('code-editor');
    await editor.locator('.cm-content').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    const code = 'console.log("shouting"); return input.text.toUpperCase();';
    await page.keyboard.type(code);
    expect(await editor.locator('.cm-content').textContent()).toBe(code);
    await page.getByLabel('Sample input (JSON)').fill('{"text": "hi"}');
    await page.getByRole('button', { name: 'Test with sample input' }).click();
    const result = page.getByRole('region', { name: 'Test result' });
    await result.waitFor(WAIT);
    expect(JSON.parse((await result.getByTestId('code-test-output').textContent()) ?? '')).toBe('HI');
    expect(await result.getByRole('list', { name: 'Console' }).locator('li').allTextContents()).toEqual([
      '[info] shouting',
    ]);
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
    const agentId = page.url().split('/').at(-1)!;
    const agent = (await (await page.request.get(`${api}/agents/${agentId}`)).json()) as Record<
      string,
      unknown
    >;
    expect({ kind: agent.kind, code: agent.code }).toEqual({
      kind: 'code',
      code: { language: 'javascript', code },
    });
    await shot(page, 'code-agent');

    const wf = await page.request.post(`${api}/workflows`, {
      data: { definition: { name: 'shout', nodes: [{ id: 'shout', type: 'agent', agentId }] } },
    });
    const run = await page.request.post(`${api}/workflows/${((await wf.json()) as { id: string }).id}/runs`, {
      data: { input: { text: 'quiet words' }, wait: 30 },
    });
    const done = (await run.json()) as { status: string; output: unknown };
    expect({ status: done.status, output: done.output }).toEqual({
      status: 'completed',
      output: 'quiet words'.toUpperCase(),
    });
    await context.close();
  }, 120_000);
});
