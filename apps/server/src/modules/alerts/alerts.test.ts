import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { alertRules, alerts } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJobNow } from '../../jobs/scheduler.ts';
import { type MailCatcher, startMailCatcher } from '../../test-mail.ts';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { externalAgentsSweepJob } from '../external-agents/sweep-job.ts';

let s: TestServer;
let mail: MailCatcher;
let owner: SignedUp;
let other: SignedUp;
let slack: Server;
let slackUrl: string;
const slackMessages: { text: string; blocks: { type: string }[] }[] = [];

beforeAll(async () => {
  mail = await startMailCatcher();
  s = await startTestServer({ settings: { smtpUrl: mail.url, publicUrl: 'http://studio.test' } });
  owner = await signUp(s);
  other = await signUp(s);
  // A local Slack-compatible incoming webhook; the organization consents to private addresses (loopback).
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      slackMessages.push(JSON.parse(body));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}/services/T000/B000/secret`;
  await s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${owner.organizationId}`,
    ),
  );
});
afterAll(async () => {
  slack?.close();
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
  (await call(s, 'GET', '/api/v1/alerts', { token: owner.token })).body.data.filter(
    (a: { agentId: string }) => a.agentId === agentId,
  ) as { id: string; status: string; ruleId: string }[];

describe(`alerts on ${testBackend()}`, () => {
  it('an agent that stops is mailed offline once (two sweeps), and resolved when it comes back', async () => {
    const { id, key } = await external('Mailer bot');
    const rule = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: 'bot down',
        agentId: id,
        condition: { kind: 'agent_offline' },
        channels: { email: ['ops@example.com'], slack: slackUrl },
      },
    });
    expect(rule.status).toBe(201);
    expect(rule.body.channels).toEqual({ email: ['ops@example.com'], slack: true });
    expect(JSON.stringify(rule.body)).not.toContain(slackUrl);
    const stored = await s.database.db.system((tx) =>
      tx.select().from(alertRules).where(sql`id = ${rule.body.id}`),
    );
    expect(stored[0]!.slackWebhookEncrypted).not.toContain('127.0.0.1');
    await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, { token: key, body: { status: 'ok' } });
    await s.database.db.system((tx) =>
      tx.execute(
        sql`UPDATE external_agent_monitors SET last_heartbeat_at = now() - interval '30 seconds' WHERE agent_id = ${id}`,
      ),
    );
    // Two workers sweep at once: one alert, one email.
    await Promise.all([
      runJobNow(externalAgentsSweepJob, s.app.jobDeps),
      runJobNow(externalAgentsSweepJob, s.app.jobDeps),
    ]);
    await runJobNow(externalAgentsSweepJob, s.app.jobDeps);
    const open = await alertsOf(id);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: 'open', ruleId: rule.body.id });
    await mail.waitFor('ops@example.com', /Alert "bot down": Mailer bot/);
    expect(mail.mails.filter((m) => m.text.includes('Alert "bot down"'))).toHaveLength(1);
    expect(mail.mails.find((m) => m.text.includes('Alert "bot down"'))!.text).toContain(
      'http://studio.test/external-agents',
    );

    expect(slackMessages.filter((m) => m.text.includes('Alert "bot down"'))).toHaveLength(1);
    const opened = slackMessages.find((m) => m.text.includes('Alert "bot down"'))!;
    expect(opened.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section']);
    expect(JSON.stringify(opened.blocks)).toContain(
      '<http://studio.test/external-agents|Open in AI Ops Studio>',
    );

    await call(s, 'POST', `/api/v1/agents/${id}/heartbeat`, { token: key });
    await mail.waitFor('ops@example.com', /Resolved "bot down": Mailer bot/);
    expect(slackMessages.filter((m) => m.text.includes('Resolved "bot down"'))).toHaveLength(1);
    const after = await alertsOf(id);
    expect(after).toHaveLength(1);
    expect(after[0]!.status).toBe('resolved');
  });

  it('three consecutive failures open one alert; more failures do not duplicate it; a success resolves it', async () => {
    const { id, key } = await external('Flaky job');
    await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: {
        name: '3 failures',
        condition: { kind: 'consecutive_failures', count: 3 },
        channels: { email: ['dev@example.com'] },
      },
    });
    const log = (status: string) =>
      call(s, 'POST', `/api/v1/agents/${id}/logs`, { token: key, body: { status } });
    await log('error');
    await log('error');
    await log('success');
    await log('error');
    await log('error');
    expect(await alertsOf(id)).toHaveLength(0);
    await log('error');
    expect((await alertsOf(id)).map((a) => a.status)).toEqual(['open']);
    await log('error');
    await log('error');
    expect(await alertsOf(id)).toHaveLength(1);
    await mail.waitFor('dev@example.com', /Alert "3 failures": Flaky job/);
    await log('success');
    expect((await alertsOf(id)).map((a) => a.status)).toEqual(['resolved']);
    await mail.waitFor('dev@example.com', /Resolved "3 failures": Flaky job/);
    // It can fire again after resolving.
    for (let i = 0; i < 3; i++) await log('error');
    const again = await alertsOf(id);
    expect(again.map((a) => a.status).sort()).toEqual(['open', 'resolved']);
    // Manual resolve, audited; another organization sees no alerts.
    const openId = again.find((a) => a.status === 'open')!.id;
    const r = await call(s, 'POST', `/api/v1/alerts/${openId}/resolve`, { token: owner.token });
    expect(r.body.status).toBe('resolved');
    expect((await call(s, 'POST', `/api/v1/alerts/${openId}/resolve`, { token: other.token })).status).toBe(
      404,
    );
    expect((await call(s, 'GET', '/api/v1/alerts', { token: other.token })).body.data).toHaveLength(0);
    const theirs = await s.database.db.withTenant(other.organizationId, (tx) => tx.select().from(alerts));
    expect(theirs).toHaveLength(0);
  });

  it('refuses bad rules with a 400', async () => {
    const bad = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: { name: 'x', condition: { kind: 'consecutive_failures' } },
    });
    expect(bad.status).toBe(400);
    const badMail = await call(s, 'POST', '/api/v1/alerts/rules', {
      token: owner.token,
      body: { name: 'x', condition: { kind: 'agent_offline' }, channels: { email: ['not-an-address'] } },
    });
    expect(badMail.status).toBe(400);
  });
});
