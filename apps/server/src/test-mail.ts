import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  to: string[];
  subject: string;
  text: string;
}

/** A real SMTP server on a loopback port that keeps what it receives (for tests). */
export interface MailCatcher {
  url: string;
  mails: CaughtMail[];
  /** Waits for a mail to `to` whose text matches `pattern`; returns the first capture group (or match). */
  waitFor(to: string, pattern: RegExp, ms?: number): Promise<string>;
  close(): Promise<void>;
}

function decode(raw: string): { subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  let body = rest.join('\n\n');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(head)) {
    body = body
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  } else if (/content-transfer-encoding:\s*base64/i.test(head)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  const subject = /^subject:\s*(.*)$/im.exec(head)?.[1] ?? '';
  return { subject, text: body };
}

export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { subject, text } = decode(Buffer.concat(chunks).toString('utf8'));
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), subject, text });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(to, pattern, ms = 10_000) {
      const start = Date.now();
      while (Date.now() - start < ms) {
        for (const m of mails) {
          const match = m.to.includes(to) ? pattern.exec(m.text) : null;
          if (match) return match[1] ?? match[0];
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no mail to ${to} matching ${pattern} within ${ms} ms (got ${mails.length} mails)`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
