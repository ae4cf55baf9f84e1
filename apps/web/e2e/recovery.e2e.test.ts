import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFailed } from 'vitest';
import { mailedToken, shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * The first hour's dead ends, in Chromium: a lost password recovered from the mailed link, the email
 * address confirmed from its link, sign-up's refusal in words, and a signed-out visit that fails no request
 * (the session probe answers 200).
 */
const studio = studioPerFile();

const WAIT = { timeout: 20_000 };
const VIEWPORT = { viewport: { width: 1280, height: 800 } };

/** Every request of the page that failed or was answered with an error status. */
function failures(page: Page): string[] {
  const failed: string[] = [];
  page.on('requestfailed', (r) => failed.push(`${r.method()} ${new URL(r.url()).pathname} failed`));
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
  });
  return failed;
}

describe('signed out, in Chromium', () => {
  it('a first visit makes no failed request (the session probe answers 200) and lands on sign-in', async () => {
    const context = await studio.browser.newContext(VIEWPORT);
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-landing').then(() => undefined));
    const failed = failures(page);
    await page.goto(`${studio.server.url}/runs`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(failed).toEqual([]);
    await context.close();
  });

  it('sign-up says what is wrong with the password in words', async () => {
    const context = await studio.browser.newContext(VIEWPORT);
    const page = await context.newPage();
    await page.goto(`${studio.server.url}/signup`);
    await page.getByLabel('Your name').fill('Short Pw');
    await page.getByLabel('Email').fill(`short-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('short');
    await page.getByLabel('Organization name').fill('Short Labs');
    await page.getByRole('button', { name: 'Create account' }).click();
    const alert = page.getByRole('alert');
    await expect
      .poll(() => alert.textContent(), WAIT)
      .toBe('The password must be at least 10 characters long.');
    await context.close();
  });

  it('"Forgot password?" mails a link; the link sets a new password; the new one signs in', async () => {
    const context = await studio.browser.newContext(VIEWPORT);
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-reset').then(() => undefined));
    const { email, password } = await signUpInBrowser(page, studio.server.url, 'Rosa');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByRole('status').getByText(email).waitFor(WAIT);
    await expect.poll(() => mailedToken(studio.server, 'reset-password'), WAIT).not.toBeNull();
    const token = mailedToken(studio.server, 'reset-password')!;

    await page.goto(`${studio.server.url}/reset-password?token=${token}`);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await shot(page, 'reset-password');
    const fresh = 'Brand-new-Passw0rd!';
    await page.getByLabel('New password', { exact: true }).fill(fresh);
    await page.getByLabel('Repeat the new password').fill(fresh);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('status').getByText('Your password is changed').waitFor(WAIT);

    // The old password no longer works; the new one does.
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor(WAIT);
    await page.getByLabel('Password').fill(fresh);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor(WAIT);

    // A used link is refused in words.
    await page.goto(`${studio.server.url}/reset-password?token=${token}`);
    await page.getByLabel('New password', { exact: true }).fill('Another-Passw0rd!');
    await page.getByLabel('Repeat the new password').fill('Another-Passw0rd!');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('alert').waitFor(WAIT);
    await context.close();
  });

  it('the verification link confirms the address', async () => {
    const context = await studio.browser.newContext(VIEWPORT);
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-verify').then(() => undefined));
    const mailed = () => studio.server.output().match(/\/verify-email\?token=/g)?.length ?? 0;
    const before = mailed();
    await signUpInBrowser(page, studio.server.url, 'Vera');
    const me = async () =>
      (await (await page.request.get(`${studio.server.url}/api/v1/me`)).json()) as {
        user: { emailVerified: boolean };
      };
    expect((await me()).user.emailVerified).toBe(false);
    await expect.poll(mailed, WAIT).toBeGreaterThan(before);
    const token = mailedToken(studio.server, 'verify-email')!;
    await page.goto(`${studio.server.url}/verify-email?token=${token}`);
    await page.getByRole('status').getByText('Your email address is confirmed.').waitFor(WAIT);
    await shot(page, 'verify-email');
    expect((await me()).user.emailVerified).toBe(true);
    await context.close();
  });
});
