import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { seriousA11yViolations, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * axe-core on every page of the studio, signed out and signed in, in light and dark mode: no serious or
 * critical violation (contrast, names of controls, labels, landmarks, ARIA). One test per page and
 * scheme: a failure names its page, and a loaded machine slows each page, not one test of thirty pages
 * against a single time limit (CI of 2026-12-06 timed the dark pass out at 120 s; it takes 36 s idle).
 */
const studio = studioPerFile();

const WAIT = { timeout: 20_000 };
const PAGE_TIMEOUT = 60_000;

type Ready = (p: Page) => Promise<unknown>;
const heading =
  (name: string | RegExp): Ready =>
  (p) =>
    p.getByRole('heading', { name }).first().waitFor(WAIT);

const SIGNED_OUT: [string, Ready][] = [
  ['/login', (p) => p.getByRole('button', { name: 'Sign in' }).waitFor(WAIT)],
  ['/signup', (p) => p.getByRole('button', { name: 'Create account' }).waitFor(WAIT)],
  ['/forgot-password', heading('Reset your password')],
  ['/reset-password?token=not-a-token', heading('Choose a new password')],
  ['/verify-email', heading('Confirm your email address')],
  ['/accept-invite?token=not-a-token', heading('Join the organization')],
];

const SETTINGS_AND_LISTS: [string, string | RegExp][] = [
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
];

/** What the signed-in pages show: a workflow, one of its runs, a published marketplace listing. */
interface Fixtures {
  workflow: string;
  run: string;
  listing: string;
}

async function createFixtures(page: Page): Promise<Fixtures> {
  const url = studio.server.url;
  const post = async <T>(path: string, data: unknown): Promise<T> => {
    const res = await page.request.post(`${url}/api/v1${path}`, { data });
    expect(res.ok(), `${path}: ${res.status()} ${await res.text()}`).toBe(true);
    return (await res.json()) as T;
  };
  const workflow = await post<{ id: string }>('/workflows/import', {
    name: 'a11y-flow',
    nodes: [
      { id: 'ask', type: 'agent', agent: { model: 'simulator:echo', prompt: 'Hello' } },
      { id: 'done', type: 'output', value: '{{nodes.ask.output}}' },
    ],
    connections: [{ from: 'ask', to: 'done', condition: 'true' }],
  });
  const run = await post<{ id: string }>(`/workflows/${workflow.id}/runs`, { input: {} });
  const template = await post<{ id: string }>('/templates', {
    name: 'a11y-template',
    description: 'd',
    systemPrompt: 's',
    modelConfig: { model: 'simulator:echo' },
  });
  const listing = await post<{ id: string }>(`/templates/${template.id}/publish`, { price: '1' });
  return { workflow: workflow.id, run: run.id, listing: listing.id };
}

const signedIn = (f: Fixtures): [string, Ready][] => [
  ['/', heading('Overview')],
  ['/agents', heading('Agents')],
  ['/agents/new', (p) => p.getByLabel('Name', { exact: true }).waitFor(WAIT)],
  ['/workflows', (p) => p.getByRole('link', { name: 'a11y-flow' }).waitFor(WAIT)],
  ['/workflows/new', (p) => p.locator('.react-flow__pane').waitFor(WAIT)],
  [`/workflows/${f.workflow}`, (p) => p.getByTestId('node-ask').waitFor(WAIT)],
  ['/runs', (p) => p.locator('table tbody tr').first().waitFor(WAIT)],
  [
    `/runs/${f.run}`,
    (p) => expect.poll(() => p.locator('.page-header .status').textContent(), WAIT).toBe('completed'),
  ],
  ...SETTINGS_AND_LISTS.map(([path, name]): [string, Ready] => [path, heading(name)]),
  [`/marketplace/${f.listing}`, heading('a11y-template')],
];

for (const scheme of ['light', 'dark'] as const) {
  describe(`accessibility (axe-core, ${scheme})`, () => {
    let context: BrowserContext;
    let page: Page;
    let fixtures: Fixtures;

    beforeAll(async () => {
      context = await studio.browser.newContext({
        viewport: { width: 1280, height: 800 },
        colorScheme: scheme,
        // axe-core is injected as an inline script, which the studio's CSP (script-src 'self') refuses.
        bypassCSP: true,
      });
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    async function expectNoSeriousViolation(path: string, ready: Ready) {
      onTestFailed(() =>
        shot(page, `failed-a11y-${scheme}-${path.replace(/\W+/g, '-')}`).then(() => undefined),
      );
      await page.goto(`${studio.server.url}${path}`);
      await ready(page);
      await page.waitForLoadState('networkidle');
      expect(await seriousA11yViolations(page)).toEqual([]);
    }

    for (const [path, ready] of SIGNED_OUT) {
      it(`signed out: ${path}`, () => expectNoSeriousViolation(path, ready), PAGE_TIMEOUT);
    }

    it(
      'signs up and creates what the pages show',
      async () => {
        await signUpInBrowser(page, studio.server.url, `Axe${scheme}`);
        fixtures = await createFixtures(page);
      },
      PAGE_TIMEOUT,
    );

    // The paths of the signed-in pages are known once the fixtures exist; the tests are declared now.
    const placeholder: Fixtures = { workflow: ':workflow', run: ':run', listing: ':listing' };
    signedIn(placeholder).forEach(([name], i) => {
      it(
        `signed in: ${name}`,
        () => {
          expect(fixtures, 'the sign-up test failed').toBeDefined();
          const [path, ready] = signedIn(fixtures)[i]!;
          return expectNoSeriousViolation(path, ready);
        },
        PAGE_TIMEOUT,
      );
    });
  });
}
