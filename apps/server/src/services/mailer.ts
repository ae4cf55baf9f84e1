import type { FastifyBaseLogger } from 'fastify';
import nodemailer, { type Transporter } from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  /** Files sent with the mail (an invoice's PDF); the development log names them, never their content. */
  attachments?: { filename: string; content: Buffer; contentType: string }[];
}

/**
 * Outgoing email through SMTP (nodemailer). With no SMTP_URL configured the mail is written to the log
 * instead (development): that log line is the one place a mailed token appears.
 */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

export function createMailer(options: { smtpUrl?: string; from: string; log: FastifyBaseLogger }): Mailer {
  const { smtpUrl, from, log } = options;
  if (!smtpUrl) {
    return {
      async send(mail) {
        log.info(
          {
            mail: {
              to: mail.to,
              subject: mail.subject,
              text: mail.text,
              ...(mail.attachments ? { attachments: mail.attachments.map((a) => a.filename) } : {}),
            },
          },
          'mail (no SMTP_URL set: logged, not sent)',
        );
      },
      close() {},
    };
  }
  const transport: Transporter = nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.attachments ? { attachments: mail.attachments } : {}),
        });
      } catch (err) {
        // The token is in the body: log only who and what failed, never the text.
        log.error(
          { err: { message: (err as Error).message }, subject: mail.subject },
          'mail could not be sent',
        );
      }
    },
    close() {
      transport.close();
    },
  };
}
