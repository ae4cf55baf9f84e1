import { describe, expect, it, onTestFailed } from 'vitest';
import { shot, signUpInBrowser, studioPerFile } from './browser-test-support.ts';

/**
 * Seats in Chromium: the members page shows seats used against the plan's limit, and an invitation past
 * the last seat shows the server's refusal naming the plan and its limit.
 */
const studio = studioPerFile();
const WAIT = { timeout: 30_000 };

describe('seats on the members page', () => {
  it('counts members and pending invitations, and shows the refusal past the last seat', async () => {
    const context = await studio.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    onTestFailed(() => shot(page, 'failed-members-seats').then(() => undefined));
    await signUpInBrowser(page, studio.server.url, 'Sasha');
    await page.getByRole('link', { name: 'Members', exact: true }).click();
    const seats = await page.request.get(`${studio.server.url}/api/v1/members/seats`).then((r) => r.json());
    expect(seats).toMatchObject({ tier: 'starter', members: 1, pendingInvitations: 0 });
    const limit = seats.limit as number;
    await page
      .getByText(`Seats: 1 of ${limit} used on the Starter plan (1 member, 0 pending invitations)`)
      .waitFor(WAIT);
    const form = page.getByRole('form', { name: 'Invite someone' });
    for (let i = 1; i < limit; i++) {
      const email = `seat-${i}-${Date.now()}@example.test`;
      await form.getByLabel('Email').fill(email);
      await form.getByRole('button', { name: 'Send invitation' }).click();
      await page.getByText(`Invitation mailed to ${email}.`).waitFor(WAIT);
    }
    await page
      .getByText(
        `Seats: ${limit} of ${limit} used on the Starter plan (1 member, ${limit - 1} pending invitations). All seats are taken`,
      )
      .waitFor(WAIT);
    await form.getByLabel('Email').fill(`one-too-many-${Date.now()}@example.test`);
    await form.getByRole('button', { name: 'Send invitation' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Starter plan includes' });
    await alert.waitFor(WAIT);
    expect(await alert.textContent()).toBe(
      `The Starter plan includes ${limit} seats and all are taken (1 members, ${limit - 1} pending invitations): upgrade the plan, or remove a member or revoke an invitation first`,
    );
    await shot(page, 'members-seats-full');
    await context.close();
  });
});
