import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFakeOpenAI } from '@aiops/testing';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  ARTIFACTS,
  clickEdge,
  connectHandles,
  launchBrowser,
  recordApiCalls,
  type StudioServer,
  shot,
  signUpInBrowser,
  startStudio,
} from './browser-test-support.ts';

/**
 * The newcomer's path in a real browser: sign up, create an agent on the simulator and try it, build a
 * three-step workflow by dragging from the palette and connecting handles, save, run it, watch every
 * step complete with tokens and cost, open the timeline. Screenshots of each page go to
 * test-artifacts/studio/.
 */
let server: StudioServer;
let browser: Browser;
const started = Date.now();

beforeAll(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  [server, browser] = await Promise.all([startStudio(), launchBrowser()]);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const WIDTH = 1280;
/** How long a state may take to appear (a loaded CI machine is slow; a passing run never waits this long). */
const WAIT = { timeout: 20_000 };

/**
 * A first visit (empty cache) of `url` until `ready` shows: JS bytes transferred (and their gzip size),
 * and the time from navigation start until the page can be used.
 */
async function measureLoad(context: BrowserContext, url: string, ready: (page: Page) => Promise<void>) {
  const page = await context.newPage();
  const scripts: { file: string; transferred: number }[] = [];
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes().catch(() => null);
    if (sizes && request.resourceType() === 'script') {
      scripts.push({ file: new URL(request.url()).pathname, transferred: sizes.responseBodySize });
    }
  });
  await page.goto(url);
  await ready(page);
  const interactiveMs = await page.evaluate(() => performance.now());
  await page.waitForLoadState('networkidle');
  await page.close();
  const dist = path.resolve(import.meta.dirname, '../dist');
  return {
    scripts: scripts.map((s) => s.file),
    jsTransferredBytes: scripts.reduce((n, s) => n + s.transferred, 0),
    jsGzipBytes: scripts.reduce((n, s) => n + statSync(path.join(dist, `${s.file}.gz`)).size, 0),
    interactiveMs: Math.round(interactiveMs),
  };
}

describe('the studio in Chromium', () => {
  it('sign up → agent → three-step workflow built by dragging → run → every step completes → timeline', async () => {
    const fresh = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    const signInPage = await measureLoad(fresh, server.url, (p) =>
      p.getByRole('button', { name: 'Sign in' }).waitFor(),
    );
    await fresh.close();
    const context = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    const page: Page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-path').then(() => undefined));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // Sign up (the sign-in page first: the studio sends a signed-out visitor there).
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot(page, '01-login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Ada Tester');
    await page.getByLabel('Email').fill(`ada-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('Studio-e2e-Passw0rd!');
    await page.getByLabel('Organization name').fill('Ada Labs');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('Nothing has run in this window').waitFor();
    await shot(page, '02-overview-empty');

    // An agent on the simulator, tried once.
    await page.getByRole('link', { name: 'Agents', exact: true }).click();
    await page.getByText('No agents yet').waitFor();
    await page.getByRole('link', { name: 'Create your first agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Echo');
    expect(await page.getByLabel('Model (provider:model)').inputValue()).toBe('simulator:echo');
    await page.getByLabel('Prompt', { exact: true }).fill('Summarize: {{input.text}}');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
    await page.getByLabel('input.text').fill('hello studio');
    await page.getByRole('button', { name: 'Run once' }).click();
    const tried = page.getByTestId('try-result');
    await tried.waitFor();
    expect(await tried.textContent()).toMatch(/Tokens\s*\d+/);
    expect(await tried.textContent()).toContain('Summarize: hello studio');
    await shot(page, '03-agent');

    // A workflow: three steps dragged from the palette and connected by their handles.
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'Build your first workflow' }).click();
    const pane = page.locator('.react-flow__pane');
    await pane.waitFor();
    const drops: [string, number, number][] = [
      ['agent', 110, 60],
      ['agent', 110, 260],
      ['output', 380, 440],
    ];
    for (const [type, x, y] of drops) {
      await page.getByTestId(`palette-${type}`).dragTo(pane, { targetPosition: { x, y } });
    }
    await expect.poll(() => page.locator('.react-flow__node').count(), WAIT).toBe(3);
    await connectHandles(page, 'agent_1', 'agent_2');
    await connectHandles(page, 'agent_2', 'output_1');
    // Unconfigured agents are flagged on the node itself by the server's validation.
    await page.locator('[data-testid="node-agent_1"] .step-issues').waitFor();
    for (const id of ['agent_1', 'agent_2']) {
      await page.getByTestId(`node-${id}`).click();
      await page
        .getByRole('combobox', { name: 'Saved agent' })
        .selectOption({ label: 'Echo (simulator:echo)' });
    }
    await page.getByTestId('node-output_1').click();
    await page.getByLabel(/^Value/).fill('{{nodes.agent_2.output}}');
    await expect.poll(() => page.locator('.step-issues').count(), WAIT).toBe(0);
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+s');
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await page.getByText('v1', { exact: true }).waitFor();
    await shot(page, '04-editor');

    // Run it from the form generated from the input schema; watch it live on the same graph.
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByLabel(/^Text/).fill('the quarterly report');
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await expect
      .poll(() => page.locator('.react-flow__node [data-status="completed"]').count(), { timeout: 60_000 })
      .toBe(3);
    await expect.poll(() => page.locator('.page-header .status').textContent(), WAIT).toBe('completed');
    for (const id of ['agent_1', 'agent_2', 'output_1']) {
      expect(await page.getByTestId(`usage-${id}`).textContent()).toMatch(/^\d+ tokens · \$/);
    }
    expect(
      Number(
        await page
          .getByTestId('usage-agent_1')
          .textContent()
          .then((t) => t?.split(' ')[0]),
      ),
    ).toBeGreaterThan(0);
    await page.getByTestId('node-agent_2').click();
    await page.getByLabel('Step agent_2').getByText('Summarize: the quarterly report').first().waitFor();
    await shot(page, '05-run');
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await expect.poll(() => page.locator('[data-testid^="timeline-"]').count(), WAIT).toBe(3);
    await shot(page, '06-run-timeline');
    await page.getByRole('tab', { name: 'Events' }).click();
    await page.getByTestId('event-log').getByText('run.completed').waitFor();
    // Times to the millisecond, and the details column stays left of the step panel.
    expect(await page.getByTestId('event-log').locator('tbody tr td').first().textContent()).toMatch(
      /^\d{2}:\d{2}:\d{2}\.\d{3}$/,
    );
    const details = await page
      .getByTestId('event-log')
      .locator('tbody tr td:last-child')
      .last()
      .boundingBox();
    const panel = await page.getByLabel('Step agent_2').boundingBox();
    expect(details!.x + details!.width).toBeLessThanOrEqual(panel!.x);
    await shot(page, '06b-run-events');

    // The other pages, each with a screenshot (and at 1920 px, the editor and the overview).
    await page.getByRole('link', { name: 'Runs' }).click();
    await page.locator('table tbody tr').first().waitFor();
    await shot(page, '07-runs');
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('.recharts-surface').first().waitFor();
    await shot(page, '08-overview');
    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByText('Ada Tester').waitFor();
    await shot(page, '09-members');
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('ci');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect.poll(() => page.getByTestId('new-api-key').textContent(), WAIT).toMatch(/^aio_/);
    await shot(page, '10-api-keys');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('table tbody tr').first().waitFor();
    await shot(page, '11-audit-log');
    await page.setViewportSize({ width: 1920, height: 1080 });
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.locator('.recharts-surface').first().waitFor();
    await shot(page, '12-overview-1920');
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'my-workflow' }).click();
    await page.locator('.react-flow__node').first().waitFor();
    await shot(page, '13-editor-1920');

    // A signed-in first visit lands on the overview, which brings the chart library.
    const overview = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    await overview.addCookies(await context.cookies());
    const overviewPage = await measureLoad(overview, server.url, (p) =>
      p.locator('.recharts-surface').first().waitFor(),
    );
    await overview.close();

    // Sign out: back to the sign-in page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();

    expect(errors).toEqual([]);
    const metrics = { signInPage, overviewPage, e2eSeconds: Math.round((Date.now() - started) / 100) / 10 };
    writeFileSync(path.join(ARTIFACTS, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    console.log('studio e2e metrics', metrics);
    await context.close();
  }, 180_000);

  it('editor: add by keyboard, undo/redo, Delete, a condition, versions diff and rollback, export and import', async () => {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-editor').then(() => undefined));
    await signUpInBrowser(page, server.url, 'Grace');
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('link', { name: 'New workflow' }).click();
    await page.locator('.react-flow__pane').waitFor();
    const nodes = page.locator('.react-flow__node');

    // Palette buttons add steps without a mouse drag; Ctrl+Z / Ctrl+Shift+Z undo and redo.
    await page.getByTestId('palette-agent').click();
    await page.getByTestId('palette-output').click();
    await expect.poll(() => nodes.count(), WAIT).toBe(2);
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    await expect.poll(() => nodes.count(), WAIT).toBe(1);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => nodes.count(), WAIT).toBe(2);

    // An agent defined in the node itself, connected to the output, with a condition on the connection.
    await page.getByTestId('node-agent_1').click();
    await page.getByRole('radio', { name: 'defined here' }).check();
    await page.getByLabel('Prompt', { exact: true }).fill('Hi {{input.text}}');
    await connectHandles(page, 'agent_1', 'output_1');
    await clickEdge(page, 'agent_1', 'output_1');
    await page.getByLabel('Condition (optional)').fill("input.text != ''");
    await page.getByTestId('edge-label-agent_1->output_1').getByText("input.text != ''").waitFor();

    // Delete removes the selected step.
    await page.getByTestId('palette-tool').click();
    await expect.poll(() => nodes.count(), WAIT).toBe(3);
    await page.getByTestId('node-tool_1').click();
    await page.keyboard.press('Delete');
    await expect.poll(() => nodes.count(), WAIT).toBe(2);
    await expect.poll(() => page.locator('.step-issues').count(), WAIT).toBe(0);

    // Save twice (button, then Ctrl+S), compare the versions, roll back to the first.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    await page.getByText('v1', { exact: true }).waitFor();
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.getByLabel('Name', { exact: true }).fill('renamed-flow');
    await page.keyboard.press('Control+s');
    await page.getByText('v2', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Versions' }).click();
    const diff = page.getByTestId('version-diff');
    await diff.locator('.diff-removed', { hasText: '"name": "my-workflow"' }).waitFor();
    await diff.locator('.diff-added', { hasText: '"name": "renamed-flow"' }).waitFor();
    await shot(page, '14-versions');
    await page.getByRole('button', { name: 'Roll back to v1' }).click();
    await page.getByText('v3', { exact: true }).waitFor();
    await expect.poll(() => page.locator('.wf-name').textContent(), WAIT).toBe('my-workflow');

    // Export as JSON; import a YAML definition.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export JSON' }).click();
    const file = await (await download).path();
    const exported = JSON.parse(readFileSync(file, 'utf8')) as { name: string; connections: unknown[] };
    expect(exported.name).toBe('my-workflow');
    expect(exported.connections).toEqual([
      { from: 'agent_1', to: 'output_1', condition: "input.text != ''" },
    ]);
    await page.getByRole('link', { name: 'Workflows' }).click();
    await page.getByRole('button', { name: 'Import' }).click();
    await page
      .getByLabel('or paste the definition')
      .fill(
        [
          'name: imported-flow',
          'input: { type: object, properties: { topic: { type: string } } }',
          'nodes:',
          '  - id: write',
          '    type: agent',
          '    agent: { model: "simulator:echo", prompt: "About {{input.topic}}" }',
          '  - id: done',
          '    type: output',
          '    value: "{{nodes.write.output}}"',
          'connections:',
          '  - { from: write, to: done }',
        ].join('\n'),
      );
    await page.getByRole('dialog').getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('node-write').waitFor();
    await expect.poll(() => page.locator('.wf-name').textContent(), WAIT).toBe('imported-flow');
    await expect.poll(() => page.locator('.react-flow__edge').count(), WAIT).toBe(1);
    await context.close();
  }, 120_000);

  it('two-factor sign-in: set up in Security, then signing in asks for the code', async () => {
    const context = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-mfa').then(() => undefined));
    const { email, password } = await signUpInBrowser(page, server.url, 'Alan');
    await page.getByRole('link', { name: 'Security' }).click();
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const secret = (await page.getByTestId('mfa-secret').textContent()) ?? '';
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30 });
    // The previous period's code turns it on; the current one (a later step) signs in.
    await page.getByLabel('Code from the app').fill(totp.generate({ timestamp: Date.now() - 30_000 }));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByTestId('recovery-codes').waitFor();
    await shot(page, '15-security');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const code = page.getByLabel('Authentication code (or a recovery code)');
    await code.waitFor();
    await code.fill(totp.generate());
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await context.close();
  }, 60_000);

  it('an invitation accepted in the browser; switching organization; an approval step approved in the run view', async () => {
    const bobContext = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    const bob = await bobContext.newPage();
    const bobAccount = await signUpInBrowser(bob, server.url, 'Bob');
    const carolContext = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    const carol = await carolContext.newPage();
    const carolCalls = recordApiCalls(carol);
    const bobCalls = recordApiCalls(bob);
    onTestFailed(async () => {
      carolCalls.dump('Carol');
      bobCalls.dump('Bob');
      await shot(bob, 'failed-bob');
      await shot(carol, 'failed-carol');
    });
    const carolAccount = await signUpInBrowser(carol, server.url, 'Carol');

    // Carol invites Bob; without SMTP the server logs the mail, which carries the link. She waits for the
    // page to show its members, as a person does: rows arriving above the form move its button.
    await carol.getByRole('link', { name: 'Members' }).click();
    await carol.getByRole('cell', { name: carolAccount.email }).waitFor();
    await carol.getByLabel('Email').fill(bobAccount.email);
    await carol.getByRole('button', { name: 'Send invitation' }).click();
    await carol.getByText(`Invitation mailed to ${bobAccount.email}.`).waitFor();
    await shot(carol, '16-members-invited');
    await expect.poll(() => /accept-invite\?token=([A-Za-z0-9_-]+)/.test(server.output()), WAIT).toBe(true);
    const token = [...server.output().matchAll(/accept-invite\?token=([A-Za-z0-9_-]+)/g)].at(-1)![1]!;

    // Bob accepts while signed in: he is now in Carol's organization, and can switch back to his own.
    await bob.goto(`${server.url}/accept-invite?token=${token}`);
    await bob.getByRole('button', { name: 'Accept invitation' }).click();
    const org = bob.getByLabel('Organization');
    await expect.poll(() => org.locator('option:checked').textContent(), WAIT).toBe('Carol Labs (member)');
    // The pages' data reloads slowly after the switch (held 1.5 s here, as on a loaded machine): the page Bob
    // opens meanwhile stays open. The studio once opened the home page only after that reload, over it.
    const held: Request[] = [];
    let holding = true;
    await bob.route('**/api/v1/**', async (route) => {
      const request = route.request();
      if (holding && request.method() === 'GET' && !request.url().includes('/auth/session')) {
        held.push(request);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      await route.fallback();
    });
    await org.selectOption({ label: 'Bob Labs (owner)' });
    await expect.poll(() => org.locator('option:checked').textContent(), WAIT).toBe('Bob Labs (owner)');
    holding = false;
    await bob.getByRole('link', { name: 'Members' }).click();
    const members = bob.getByRole('heading', { name: 'Members of Bob Labs' });
    await members.waitFor();
    expect(held.length).toBeGreaterThan(0);
    await Promise.all(held.map((r) => r.response()));
    // The page's own work after the last held answer (a navigation would start within it) has run.
    await bob.evaluate(() => new Promise((resolve) => setTimeout(resolve, 300)));
    expect(new URL(bob.url()).pathname).toBe('/settings/members');
    expect(await members.isVisible()).toBe(true);
    await bob.unrouteAll();

    // A workflow with an approval step (imported through the API with Carol's session cookie).
    const imported = await carol.request.post(`${server.url}/api/v1/workflows/import`, {
      data: {
        name: 'needs-approval',
        nodes: [
          { id: 'draft', type: 'agent', agent: { model: 'simulator:echo', prompt: 'Draft a reply' } },
          { id: 'review', type: 'approval', message: 'Send the draft?' },
          { id: 'done', type: 'output', value: '{{nodes.draft.output}}' },
        ],
        connections: [
          { from: 'draft', to: 'review' },
          { from: 'review', to: 'done' },
        ],
      },
    });
    expect(imported.status()).toBe(201);
    const workflow = (await imported.json()) as { id: string };
    await carol.goto(`${server.url}/workflows/${workflow.id}`);
    await carol.getByRole('button', { name: 'Run', exact: true }).click();
    await carol.getByRole('button', { name: 'Start run' }).click();
    await carol.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
    await carol.locator('[data-testid="node-review"][data-status="waiting"]').waitFor();
    await carol.getByTestId('node-review').click();
    await carol.getByLabel('Comment').fill('looks good');
    await shot(carol, '17-run-approval');
    await carol.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => carol.locator('.react-flow__node [data-status="completed"]').count(), { timeout: 60_000 })
      .toBe(3);
    await bobContext.close();
    await carolContext.close();
  }, 90_000);

  it('integrations and budget: allow private networks, add an OpenAI-compatible server, test it, set a budget', async () => {
    const fake = await startFakeOpenAI('openai', { apiKey: 'sk-fake-key-12345678' });
    fake.replyByDefault({ kind: 'text', text: 'pong' });
    const context = await browser.newContext({ viewport: { width: WIDTH, height: 800 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-integrations').then(() => undefined));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signUpInBrowser(page, server.url, 'Iris');

      // The fake server is on 127.0.0.1: the organization must allow private networks first.
      await page.getByRole('link', { name: 'Usage & budget' }).click();
      const toggle = page.getByLabel(/Allow private networks/);
      // The toggle shows the server's value: it turns on once the change is saved.
      await toggle.click();
      await expect
        .poll(() => page.getByTestId('settings-saved').textContent(), WAIT)
        .toBe('Private networks allowed.');
      await expect.poll(() => toggle.isChecked(), WAIT).toBe(true);

      // Add the integration from the empty state, then test it.
      await page.getByRole('link', { name: 'Integrations' }).click();
      await page.getByText('No provider integrations yet').waitFor();
      await page.getByRole('button', { name: 'Add your first integration' }).click();
      await page.getByRole('combobox', { name: 'Provider' }).selectOption('openai-compatible');
      await page.getByLabel('Name', { exact: true }).fill('local fake');
      await page.getByLabel(/^API key/).fill('sk-fake-key-12345678');
      await page.getByLabel(/^Base URL/).fill(fake.baseUrl);
      await page.getByLabel(/^Test model/).fill('fake-model');
      await page.getByRole('button', { name: 'Add integration' }).click();
      const row = page.getByTestId('integration-local fake');
      await expect.poll(() => row.locator('.status').textContent(), WAIT).toBe('pending');
      expect(await row.textContent()).toContain('5678');
      await row.getByRole('button', { name: 'Test' }).click();
      await expect.poll(() => row.locator('.status').textContent(), WAIT).toBe('connected');
      await expect
        .poll(() => row.getByTestId('integration-test-result').textContent(), WAIT)
        .toMatch(/^Test passed/);
      expect(fake.exchanges.length).toBeGreaterThan(0);
      await shot(page, '18-integrations');

      // Rotating to a wrong key: the next test fails and says why, in words.
      await row.getByRole('button', { name: 'Edit' }).click();
      const dialog = page.getByRole('dialog', { name: 'Edit local fake' });
      await dialog.getByLabel(/^New API key/).fill('sk-wrong-key-00000000');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'detached', ...WAIT });
      await expect.poll(() => row.locator('code').textContent(), WAIT).toBe('sk-…0000');
      await row.getByRole('button', { name: 'Test' }).click();
      await expect.poll(() => row.locator('.status').textContent(), WAIT).toBe('error');
      await expect
        .poll(() => row.getByTestId('integration-status-words').textContent(), WAIT)
        .toMatch(/^The provider refused the key: /);

      // A monthly budget, saved on the server (still there after a reload).
      await page.getByRole('link', { name: 'Usage & budget' }).click();
      await page.getByRole('textbox', { name: /^Monthly budget/ }).fill('250');
      await page.getByRole('button', { name: 'Save budget' }).click();
      await expect.poll(() => page.getByTestId('settings-saved').textContent(), WAIT).toBe('Budget saved.');
      await page.reload();
      await expect
        .poll(() => page.getByRole('textbox', { name: /^Monthly budget/ }).inputValue(), WAIT)
        .toBe('250');
      await expect.poll(() => page.getByTestId('month-budget').textContent(), WAIT).toMatch(/^\$250\.00/);
      // A price override, added and removed.
      await page.getByLabel('Model (provider:model)').fill('openai:gpt-4o-mini');
      await page.getByLabel('Input price').fill('0.1');
      await page.getByLabel('Output price').fill('0.4');
      await page.getByRole('button', { name: 'Add override' }).click();
      const overrides = page.getByRole('table', { name: 'Price overrides' });
      await overrides.getByText('openai:gpt-4o-mini').waitFor(WAIT);
      await overrides.getByRole('button', { name: 'Remove' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Remove' }).click();
      await page.getByText('No overrides: the catalog applies.').waitFor(WAIT);
      await page.getByRole('tab', { name: 'by model' }).click();
      await page
        .getByRole('table', { name: 'Costs by model' })
        .or(page.getByText('No model calls'))
        .first()
        .waitFor();
      await shot(page, '19-usage-budget');
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await fake.close();
    }
  }, 90_000);
});
