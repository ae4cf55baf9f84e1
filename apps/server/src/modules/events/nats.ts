import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';

/** The JetStream stream that holds a sink's subjects: one per subject prefix. */
export const streamName = (prefix: string) => `AIOPS_${prefix.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}`;

/** The subject of an event: `<prefix>.<organization id>.<event type>` (a type's dots add tokens). */
export const subjectOf = (prefix: string, organizationId: string, type: string) =>
  `${prefix}.${organizationId}.${type.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

/**
 * One connection per process to the operator's NATS server (NATS_URL), opened on first use and reopened
 * after it closes. Streams are created on first publish to a prefix.
 */
export class NatsPublisher {
  private conn: Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> | undefined;
  private readonly streams = new Set<string>();

  constructor(private readonly url: string) {}

  private connection() {
    if (!this.conn) {
      this.conn = (async () => {
        const nc = await connect({ servers: this.url, timeout: 3000, maxReconnectAttempts: 5 });
        nc.closed().then(() => {
          this.conn = undefined;
          this.streams.clear();
        });
        return { nc, js: nc.jetstream(), jsm: await nc.jetstreamManager() };
      })();
      this.conn.catch(() => {
        this.conn = undefined;
      });
    }
    return this.conn;
  }

  /**
   * Publishes with JetStream's de-duplication id (`Nats-Msg-Id` = the outbox id), so a redelivery after a
   * crash is stored once. Resolves when the server acknowledged the message.
   */
  async publish(prefix: string, subject: string, data: Uint8Array, msgId: string): Promise<{ seq: number }> {
    const { js, jsm } = await this.connection();
    const name = streamName(prefix);
    if (!this.streams.has(name)) {
      try {
        await jsm.streams.info(name);
      } catch {
        await jsm.streams.add({ name, subjects: [`${prefix}.>`], duplicate_window: 10 * 60 * 1_000_000_000 });
      }
      this.streams.add(name);
    }
    const ack = await js.publish(subject, data, { msgID: msgId, timeout: 5000 });
    return { seq: ack.seq };
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    if (c) await (await c.catch(() => undefined))?.nc.drain().catch(() => {});
  }
}
