import { alertNotifications, alertRules, alerts, queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { externalAgentsSweepJob } from '../external-agents/sweep-job.ts';
import { allowPrivate, drain, type Receiver, startReceiver } from './alerts-test-support.ts';
import { alertsSweepJob } from './jobs.ts';

let s: TestServer;
let mail: MailCatcher;
let owner: SignedUp;
let other: SignedUp;
let slack: Receiver;
let hook: Receiver;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ settings: { smtpUrl: mail.url, publicUrl: 'http://studio.test' } });
  owner = await signUp(s);
  other = await signUp(s);
  slack = await startReceiver('/services/T000/B000/secret');
  hook = await startReceiver('/alerts-hook');
  await allowPrivate(s, owner.organizationId);
});

afterAll(async () => {
  slack?.close();
  hook?.close();
  await s?.close();
  await mail?.close();
});

async function external(name: string) {
  const a = await call(s, 'POST', '/api/v1/agents', {
    token: owner.token,
    body: { name, kind: 'external', model: 'simulator:echo', promptTemplate: 'x' },
  });
  const k = await call(s, 'POST', `/api/v1/agents/${a.body.id}/key`, {
    token: owner.token,
    body: { expectedIntervalSeconds: 10, graceSeconds: 5 },
  });
  return { id: a.body.id as string, key: k.body.key as string };
}

const alertsOf = async (agentId: string) =>
  (await call(s, 'GET', `/api/v1/alerts?agentId=${agentId}`, { token: owner.token })).body.data as {
    id: string;
    status: string;
    ruleId: string;
    subjectName: string;
    details: { reason: string };
  }[];

const rule = async (body: Record<string, unknown>) => {
  const r = await call(s, 'POST', '/api/v1/alerts/rules', { token: owner.token, body });
  expect(r.status).toBe(201);
  return r.body;
};

describe(`alerts on ${testBackend()}`, () => {
  it('an agent that stops: one alert (two sweeps), mailed, Slack Block Kit and signed webhook through the notifier; resolved when it comes back', async () => {
    const { id, key } = await external('Mailer bot');
    const r = await rule({
      name: 'bot down',
      agentId: id,
      severity: 'critical',
      condition: { kind: 'agent_offline' },
      channels: { email: ['ops@example.com'], slack: slack.url, webhook: hook.url },
    });
    expect(r.channels).toEqual({ email: ['ops@example.com'], slack: true, webhook: true, events: true });
    expect(r.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(JSON.stringify(r)).not.toContain(slack.url);
    const listed = await call(s, 'GET', '/api/v1/alerts/rules', { token: owner.token });
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    const stored = await s.database.db.system((tx) => tx.select().from(alertRules).where(sql`id = ${r.id}`));
    expect(stored[0]!.slackWebhookEncrypted).not.toContain('127.0.0.1');
    expect(stored[0]!.webhookSecretEncrypted).not.toContain('whsec_');

    await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, { token: key, body: { status: 'ok' } });
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE external_agent_monitors SET last_heartbeat_at = now() - interval '30 seconds' WHERE agent_id = ${id}`,
      ),
    );
    // Two workers sweep at once: one alert; its notifications are queued, not sent by the sweep.
    await Promise.all([
      runJobNow(externalAgentsSweepJob, s.app.jobDeps),
      runJobNow(externalAgentsSweepJob, s.app.jobDeps),
    ]);
    await runJobNow(externalAgentsSweepJob, s.app.jobDeps);
    const open = await alertsOf(id);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: 'open', ruleId: r.id, subjectName: 'Mailer bot' });
    expect(mail.mails.filter((m) => m.text.includes('Alert "bot down"'))).toHaveLength(0);
    // Two notifier passes at once send each notification once; the webhook answers 500 first and is retried.
    hook.failNext.push(500);
    await Promise.all([drain(s), drain(s)]);
    await s.database.db.system((tx) =>
      tx.execute(sql`UPDATE alert_notifications SET next_attempt_at = now() WHERE status = 'pending'`),
    );
    await drain(s);
    const link = `http://studio.test/alerts?alert=${open[0]!.id}`;
    await mail.waitFor('ops@example.com', /Alert "bot down": Mailer bot/);
    expect(mail.mails.filter((m) => m.text.includes('Alert "bot down"'))).toHaveLength(1);
    expect(mail.mails.find((m) => m.text.includes('Alert "bot down"'))!.text).toContain(link);
    const slackBodies = slack.received.map((x) => JSON.parse(x.body));
    const opened = slackBodies.filter((m) => m.text.includes('Alert "bot down"'));
    expect(opened).toHaveLength(1);
    expect(opened[0].blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'section', 'section']);
    expect(JSON.stringify(opened[0].blocks)).toContain(`<${link}|Open in AI Ops Studio>`);
    expect(JSON.stringify(opened[0].blocks)).toContain('*Severity*\\ncritical');
    expect(hook.received).toHaveLength(1);
    const wh = new Webhook(r.webhookSecret);
    const payload = wh.verify(
      hook.received[0]!.body,
      hook.received[0]!.headers as Record<string, string>,
    ) as {
      type: string;
      data: Record<string, unknown>;
    };
    expect(payload).toMatchObject({
      type: 'alert.opened',
      data: {
        alertId: open[0]!.id,
        ruleId: r.id,
        severity: 'critical',
        subjectName: 'Mailer bot',
        url: link,
      },
    });
    expect(() =>
      wh.verify(
        hook.received[0]!.body.replace('critical', 'info'),
        hook.received[0]!.headers as Record<string, string>,
      ),
    ).toThrow();
    const tries = await s.database.db.system((tx) =>
      queryRows(
        tx,
        sql`SELECT attempts, status, last_error FROM alert_notifications WHERE channel = 'webhook'`,
      ),
    );
    expect(tries).toEqual([{ attempts: 2, status: 'sent', last_error: null }]);

    // The heartbeat resolves it (queued with the heartbeat), and the resolution is notified.
    await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, { token: key });
    expect((await alertsOf(id)).map((a) => a.status)).toEqual(['resolved']);
    await drain(s);
    await mail.waitFor('ops@example.com', /Resolved "bot down": Mailer bot/);
    expect(slack.received.filter((m) => m.body.includes('Resolved \\"bot down\\"'))).toHaveLength(1);
    expect(hook.received.map((h) => JSON.parse(h.body).type)).toEqual(['alert.opened', 'alert.resolved']);
    // The event sinks get alert.opened and alert.resolved through the outbox.
    const events = await s.database.db.system((tx) =>
      queryRows<{ type: string }>(
        tx,
        sql`SELECT type FROM event_outbox WHERE subject_id = ${open[0]!.id} ORDER BY seq`,
      ),
    );
    expect(events.map((e) => e.type)).toEqual(['alert.opened', 'alert.resolved']);
  });

  it('consecutive failures: one alert, not duplicated; a success auto-resolves it; acknowledge, cooldown reminders, manual resolve with a comment', async () => {
    const { id, key } = await external('Flaky job');
    const r = await rule({
      name: '3 failures',
      agentId: id,
      cooldownMinutes: 5,
      condition: { kind: 'consecutive_failures', count: 3 },
      channels: { email: ['dev@example.com'] },
    });
    const log = (status: string) =>
      call(s, 'POST', `/api/v1/agents/${id}/logs`, { token: key, body: { status } });
    for (const st of ['error', 'error', 'success', 'error', 'error']) await log(st);
    expect(await alertsOf(id)).toHaveLength(0);
    await log('error');
    expect((await alertsOf(id)).map((a) => a.status)).toEqual(['open']);
    await log('error');
    await log('error');
    expect(await alertsOf(id)).toHaveLength(1);
    await drain(s);
    await mail.waitFor('dev@example.com', /Alert "3 failures": Flaky job/);
    await log('success');
    expect((await alertsOf(id)).map((a) => a.status)).toEqual(['resolved']);
    await drain(s);
    await mail.waitFor('dev@example.com', /Resolved "3 failures": Flaky job - a result succeeded/);

    // It fires again; reminders come after the cooldown while open, not before, and not once acknowledged.
    for (let i = 0; i < 3; i++) await log('error');
    const openId = (await alertsOf(id)).find((a) => a.status === 'open')!.id;
    const reminders = () => mail.mails.filter((m) => m.text.includes('Still open "3 failures"')).length;
    await runJobNow(alertsSweepJob, s.app.jobDeps);
    await drain(s);
    expect(reminders()).toBe(0);
    const age = () =>
      s.database.db.system((tx) =>
        tx.execute(
          sql`UPDATE alerts SET last_notified_at = now() - interval '6 minutes' WHERE id = ${openId}`,
        ),
      );
    await age();
    await Promise.all([runJobNow(alertsSweepJob, s.app.jobDeps), runJobNow(alertsSweepJob, s.app.jobDeps)]);
    await drain(s);
    await mail.waitFor('dev@example.com', /Still open "3 failures"/);
    expect(reminders()).toBe(1);
    const ack = await call(s, 'POST', `/api/v1/alerts/${openId}/acknowledge`, { token: owner.token });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: owner.userId });
    expect(ack.body.acknowledgedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(
      (await call(s, 'POST', `/api/v1/alerts/${openId}/acknowledge`, { token: owner.token })).status,
    ).toBe(409);
    await age();
    await runJobNow(alertsSweepJob, s.app.jobDeps);
    await drain(s);
    expect(reminders()).toBe(1);
    // Still deduplicated while acknowledged.
    await log('error');
    expect((await alertsOf(id)).filter((a) => a.status !== 'resolved')).toHaveLength(1);

    const resolved = await call(s, 'POST', `/api/v1/alerts/${openId}/resolve`, {
      token: owner.token,
      body: { comment: 'restarted the job' },
    });
    expect(resolved.body).toMatchObject({
      status: 'resolved',
      resolvedBy: owner.userId,
      resolutionComment: 'restarted the job',
    });
    const again = await call(s, 'POST', `/api/v1/alerts/${openId}/resolve`, { token: owner.token });
    expect(again.body.error.message).toBe(`alert ${openId} is already resolved`);
    expect(again.status).toBe(409);
    expect((await call(s, 'POST', `/api/v1/alerts/${openId}/resolve`, { token: other.token })).status).toBe(
      404,
    );
    expect((await call(s, 'GET', '/api/v1/alerts', { token: other.token })).body.data).toHaveLength(0);
    const theirs = await s.database.db.withTenant(other.organizationId, (tx) => tx.select().from(alerts));
    expect(theirs).toHaveLength(0);
    const audit = await call(s, 'GET', `/api/v1/audit-logs?entityId=${openId}`, { token: owner.token });
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual([
      'acknowledged',
      'resolved',
    ]);
    expect(r.id).toMatch(UUID);
  });

  it('error rate and p95 latency over a window fire above the threshold with enough samples and clear when it drops (or the window empties)', async () => {
    const { id, key } = await external('Latency bot');
    const rate = await rule({
      name: 'errors > 40%',
      agentId: id,
      condition: { kind: 'error_rate', threshold: 40, windowMinutes: 30, minSamples: 4 },
    });
    const slow = await rule({
      name: 'p95 > 1s',
      agentId: id,
      condition: { kind: 'p95_latency', threshold: 1000, windowMinutes: 30, minSamples: 3 },
    });
    const log = (status: string, durationMs: number) =>
      call(s, 'POST', `/api/v1/agents/${id}/logs`, { token: key, body: { status, durationMs } });
    const openFor = async (ruleId: string) =>
      (await alertsOf(id)).filter((a) => a.ruleId === ruleId && a.status === 'open');
    await log('error', 100);
    await log('error', 100);
    // 2 of 2 failed, but fewer samples than 4: nothing yet. p95 of 2 < 3 samples: nothing.
    expect(await alertsOf(id)).toHaveLength(0);
    await log('success', 5000);
    expect(await openFor(slow.id)).toHaveLength(1); // p95 of [100, 100, 5000] = 4510 ms
    expect((await openFor(slow.id))[0]!.details.reason).toMatch(/^p95 latency 4510 ms over 3 results/);
    await log('success', 100);
    expect(await openFor(rate.id)).toHaveLength(1); // 2 of 4 = 50% > 40%
    expect((await openFor(rate.id))[0]!.details.reason).toMatch(/^50\.0% of 4 results failed/);
    for (let i = 0; i < 3; i++) await log('success', 100);
    // 2 of 7 = 28.6%: cleared. p95 still above 1 s.
    expect(await openFor(rate.id)).toHaveLength(0);
    expect((await alertsOf(id)).find((a) => a.ruleId === rate.id)!.status).toBe('resolved');
    expect(await openFor(slow.id)).toHaveLength(1);
    // The window empties without new results: the scheduled sweep clears the latency alert.
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE agent_logs SET created_at = created_at - interval '1 hour' WHERE agent_id = ${id}`,
      ),
    );
    await runJobNow(alertsSweepJob, s.app.jobDeps);
    expect(await openFor(slow.id)).toHaveLength(0);
  });

  it('row-level security: another organization sees and writes no rule, alert or notification of this one', async () => {
    const mine = await s.database.db.withTenant(owner.organizationId, async (tx) => ({
      rules: await tx.select().from(alertRules),
      alerts: await tx.select().from(alerts),
      notifications: await tx.select().from(alertNotifications),
    }));
    expect(mine.rules.length).toBeGreaterThan(0);
    expect(mine.notifications.length).toBeGreaterThan(0);
    const theirs = await s.database.db.withTenant(other.organizationId, async (tx) => ({
      rules: await tx.select().from(alertRules),
      alerts: await tx.select().from(alerts),
      notifications: await tx.select().from(alertNotifications),
    }));
    expect(theirs).toEqual({ rules: [], alerts: [], notifications: [] });
    await expect(
      s.database.db.withTenant(other.organizationId, (tx) =>
        tx.insert(alertNotifications).values({
          organizationId: owner.organizationId,
          alertId: mine.alerts[0]!.id,
          event: 'opened',
          channel: 'email',
          target: 'x@example.com',
          reason: 'forged',
        }),
      ),
    ).rejects.toThrow();
    const updated = await s.database.db.withTenant(other.organizationId, (tx) =>
      tx.update(alerts).set({ status: 'resolved' }).returning(),
    );
    expect(updated).toHaveLength(0);
  });

  it('edit and delete rules (audited); bad rules and unsafe webhook URLs get a 400 naming the field', async () => {
    const { id } = await external('Edited bot');
    const r = await rule({ name: 'edit me', agentId: id, condition: { kind: 'agent_offline' } });
    const patched = await call(s, 'PATCH', `/api/v1/alerts/rules/${r.id}`, {
      token: owner.token,
      body: {
        name: 'edited',
        severity: 'info',
        condition: { kind: 'consecutive_failures', count: 2 },
        channels: { webhook: hook.url },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'edited',
      severity: 'info',
      condition: { kind: 'consecutive_failures', count: 2 },
      channels: { webhook: true, slack: false },
    });
    expect(patched.body.webhookSecret).toMatch(/^whsec_/);
    const removed = await call(s, 'PATCH', `/api/v1/alerts/rules/${r.id}`, {
      token: owner.token,
      body: { channels: { webhook: null }, enabled: false },
    });
    expect(removed.body).toMatchObject({ enabled: false, channels: { webhook: false } });
    expect(
      (await call(s, 'PATCH', `/api/v1/alerts/rules/${r.id}`, { token: other.token, body: { name: 'x' } }))
        .status,
    ).toBe(404);
    const del = await call(s, 'DELETE', `/api/v1/alerts/rules/${r.id}`, { token: owner.token });
    expect(del.status).toBe(204);
    expect((await call(s, 'DELETE', `/api/v1/alerts/rules/${r.id}`, { token: owner.token })).status).toBe(
      404,
    );
    const audit = await call(s, 'GET', `/api/v1/audit-logs?entityId=${r.id}`, { token: owner.token });
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual([
      'created',
      'deleted',
      'updated',
      'updated',
    ]);

    const bad = async (body: Record<string, unknown>, token = owner.token) => {
      const res = await call(s, 'POST', '/api/v1/alerts/rules', { token, body });
      expect(res.status).toBe(400);
      return res.body.error.message as string;
    };
    expect(await bad({ name: 'x', condition: { kind: 'consecutive_failures' } })).toMatch(/count/);
    expect(
      await bad({ name: 'x', condition: { kind: 'agent_offline' }, channels: { email: ['not-an-address'] } }),
    ).toMatch(/email/);
    expect(await bad({ name: 'x', subjectType: 'workflow', condition: { kind: 'agent_offline' } })).toMatch(
      /^body\.condition\.kind: agent_offline/,
    );
    expect(await bad({ name: 'x', condition: { kind: 'budget', threshold: 80 } })).toMatch(
      /^body\.condition\.kind: budget applies to the organization/,
    );
    expect(
      await bad({
        name: 'x',
        subjectType: 'workflow',
        agentId: id,
        condition: { kind: 'error_rate', threshold: 5 },
      }),
    ).toMatch(/^body\.agentId/);
    expect(await bad({ name: 'x', agentId: id, condition: { kind: 'agent_offline' } }, other.token)).toMatch(
      /^body\.agentId: no such agent/,
    );
    expect(await bad({ name: 'x', condition: { kind: 'error_rate', threshold: 500 } })).toMatch(/threshold/);
    // The other organization did not consent to private addresses: a loopback webhook is refused.
    expect(
      await bad(
        { name: 'x', condition: { kind: 'agent_offline' }, channels: { webhook: 'http://127.0.0.1:9/x' } },
        other.token,
      ),
    ).toMatch(/^body\.channels\.webhook: /);
  });
});
