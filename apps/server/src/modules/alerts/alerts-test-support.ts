import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { TestServer } from '../../test-support.ts';
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
