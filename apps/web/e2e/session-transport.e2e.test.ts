import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * The studio's transport is the SDK's client with the session fetch: in Chromium, a typed call answered 401
 * (the access cookie gone) refreshes the session from the refresh cookie and is repeated, so the page
 * shows its data; when the refresh fails too, the studio goes to sign-in.
 */
const studio = studioPerFile();

const WAIT = { timeout: 30_000 };

describe('studio session over the SDK', () => {
  it('refreshes an expired access cookie once and repeats the call; a failed refresh signs out', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-session-transport').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Sasha');
    const api = `${studio.server.url}/api/v1`;
    const name = `refresh-${Date.now()}`;
    const imported = await page.request.post(`${api}/workflows/import`, {
      data: {
        name,
        nodes: [{ id: 'done', type: 'output', value: 'ok' }],
        connections: [],
      },
    });
    expect(imported.status()).toBe(201);
    const workflow = (await imported.json()) as { id: string };

    const seen: { path: string; status: number }[] = [];
    page.on('response', (r) => {
      const url = new URL(r.url());
      if (url.pathname.startsWith('/api/v1/')) seen.push({ path: url.pathname, status: r.status() });
    });

    // The access cookie is gone (as when it expires); the refresh cookie stays. No page load: the next
    // call is the SDK's typed GET /workflows of the Workflows page, inside the running app.
    await context.clearCookies({ name: 'aiops_session' });
    expect((await context.cookies()).some((c) => c.name === 'aiops_session')).toBe(false);
    await page.getByRole('link', { name: 'Workflows', exact: true }).click();
    await page.getByRole('link', { name, exact: true }).waitFor(WAIT);
    // Each call answered 401 was repeated after the refresh and answered 200 (the page may poll other
    // routes meanwhile: they share the one refresh).
    const refused = seen.filter((s) => s.status === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(seen.some((s) => s.path === '/api/v1/workflows' && s.status === 200)).toBe(true);
    for (const r of refused)
      expect(seen.slice(seen.indexOf(r)).some((s) => s.path === r.path && s.status === 200)).toBe(true);
    const refreshes = seen.filter((s) => s.path === '/api/v1/auth/refresh');
    expect(refreshes.length).toBeGreaterThan(0);
    expect(refreshes.every((s) => s.status === 200)).toBe(true);
    expect((await context.cookies()).some((c) => c.name === 'aiops_session')).toBe(true);

    // The typed detail call works on the renewed session.
    await page.getByRole('link', { name, exact: true }).click();
    await page.waitForURL((u) => u.pathname === `/workflows/${workflow.id}`);
    await expect
      .poll(() => seen.some((s) => s.path === `/api/v1/workflows/${workflow.id}` && s.status === 200), WAIT)
      .toBe(true);

    // Both cookies gone: the next call is answered 401, the refresh fails, and the studio shows sign-in.
    // The next call is the Runs page's, or a poll of the open page that comes first: then the studio is
    // already on its way to sign-in and the Runs link goes away before it can be clicked.
    await context.clearCookies();
    seen.length = 0;
    await page
      .getByRole('link', { name: 'Runs', exact: true })
      .click({ timeout: 5_000 })
      .catch(() => undefined);
    await page.waitForURL((u) => u.pathname === '/login', WAIT);
    expect(seen.some((s) => s.path !== '/api/v1/auth/refresh' && s.status === 401)).toBe(true);
    expect(seen.find((s) => s.path === '/api/v1/auth/refresh')?.status).toBe(401);
    await context.close();
  }, 90_000);
});
