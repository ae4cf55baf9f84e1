import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { call, type TestServer } from '../../test-support.ts';
import { deliverAlertNotifications } from './notify.ts';

/** A local HTTP receiver (Slack-compatible incoming webhook or generic webhook) that keeps what it gets. */
export interface Receiver {
  url: string;
  received: { headers: IncomingHttpHeaders; body: string }[];
  /** Answer the next requests with these status codes (then 200). */
  failNext: number[];
  close(): void;
}

export async function startReceiver(path: string): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const failNext: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const code = failNext.shift();
      if (!code) received.push({ headers: req.headers, body });
      res.statusCode = code ?? 200;
      res.end(code ? 'no' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    received,
    failNext,
    close: () => server.close(),
  };
}

/** Sends every due alert notification (as the worker's notifier loop does), until none is due. */
export async function drain(s: TestServer): Promise<void> {
  while ((await deliverAlertNotifications(s.app.jobDeps)) > 0) {}
}

/** The organization consents to private addresses (the local receivers listen on loopback). */
export const allowPrivate = (s: TestServer, organizationId: string) =>
  s.database.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${organizationId}`,
    ),
  );

/** An alert as `GET /api/v1/alerts` lists it (the fields tests read). */
export interface ListedAlert {
  id: string;
  status: string;
  ruleId: string;
  subjectType: string;
  subjectId: string;
  subjectName: string | null;
  agentId: string | null;
  resolutionComment: string | null;
  details: { reason: string; value?: number };
}

/** The alerts of a rule. */
export const alertsOfRule = async (s: TestServer, token: string, ruleId: string) =>
  (await call(s, 'GET', `/api/v1/alerts?ruleId=${ruleId}`, { token })).body.data as ListedAlert[];

async function created(s: TestServer, token: string, path: string, body: Record<string, unknown>) {
  const r = await call(s, 'POST', path, { token, body });
  if (r.status !== 201) throw new Error(`POST ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

/** Creates an agent (by default an llm agent on simulator:echo that answers `input.text`); returns its id. */
export const newAgent = (s: TestServer, token: string, body: Record<string, unknown>) =>
  created(s, token, '/api/v1/agents', { model: 'simulator:echo', promptTemplate: '{{input.text}}', ...body });

/** Creates an alert rule; returns its id. */
export const newRule = (s: TestServer, token: string, body: Record<string, unknown>) =>
  created(s, token, '/api/v1/alerts/rules', body);
