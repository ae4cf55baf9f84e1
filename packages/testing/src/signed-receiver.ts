import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One call a signed receiver got. */
export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  /** The raw body, as it was signed. */
  body: string;
  /** The signed payload when the call verified with the receiver's `secret` (Standard Webhooks), else null. */
  verified: unknown;
}

export interface ReceiverAnswer {
  status?: number;
  body?: string;
  contentType?: string;
}

export interface SignedReceiverOptions {
  /** The path of `url` (default `/agent`); calls to any path are received. */
  path?: string;
  /** Answer 401 to a call that does not verify with `secret` (default true). */
  requireSignature?: boolean;
  /** The answer when `answers` is empty (default 200 `ok`). */
  answer?: (call: ReceivedCall) => ReceiverAnswer;
}

/** A local HTTP server that receives Standard Webhooks-signed calls and checks their signatures. */
export interface SignedReceiver {
  url: string;
  /** Every call, in the order it arrived (clear with `received.length = 0`). */
  received: ReceivedCall[];
  /** The `whsec_…` secret calls are verified with (set it once the server shows it); empty: none verifies. */
  secret: string;
  /** Answers to the next accepted calls, in order (then `options.answer`). */
  answers: ReceiverAnswer[];
  /** Whether a call (by default the last) verifies with this secret. */
  verifies(secret: string, call?: ReceivedCall): boolean;
  close(): Promise<void>;
}

function verify(secret: string, call: Pick<ReceivedCall, 'headers' | 'body'>): unknown {
  try {
    return new Webhook(secret).verify(call.body, {
      'webhook-id': String(call.headers['webhook-id']),
      'webhook-timestamp': String(call.headers['webhook-timestamp']),
      'webhook-signature': String(call.headers['webhook-signature']),
    });
  } catch {
    return null;
  }
}

/**
 * Starts a receiver on a free loopback port: each call is kept with whether it verified with the
 * receiver's current `secret`, refused with 401 if it did not (unless `requireSignature: false`), and
 * answered with the next of `answers` or `options.answer`.
 */
export async function startSignedReceiver(options: SignedReceiverOptions = {}): Promise<SignedReceiver> {
  const requireSignature = options.requireSignature ?? true;
  const answer = options.answer ?? (() => ({}));
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const call: ReceivedCall = { headers: req.headers, body, verified: null };
      call.verified = verify(receiver.secret, call);
      receiver.received.push(call);
      const refused = requireSignature && call.verified === null;
      const next: ReceiverAnswer = refused
        ? { status: 401, body: 'bad signature' }
        : (receiver.answers.shift() ?? answer(call));
      res.statusCode = next.status ?? 200;
      if (next.contentType) res.setHeader('content-type', next.contentType);
      res.end(next.body ?? 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const receiver: SignedReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${options.path ?? '/agent'}`,
    received: [],
    secret: '',
    answers: [],
    verifies: (secret, call = receiver.received.at(-1)) =>
      call !== undefined && verify(secret, call) !== null,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return receiver;
}
