/**
 * Streaming a model's tokens to the run's event stream. Tokens are not stored (the step's output is): a
 * worker batches a step's deltas and announces them with NOTIFY on `aiops_run_tokens`; the API process
 * that serves a run's Server-Sent Events forwards them as `step.token` events.
 *
 * A step that finishes within the first interval announces nothing (its completion carries the whole
 * output), so fast steps cost no extra round trip.
 */
import type { Database } from '@aiops/db';
import { sql } from 'drizzle-orm';
import { CHANNELS } from './types.ts';

export interface TokenDelta {
  runId: string;
  nodeId: string;
  attempt: number;
  /** The fan-out item, when the node runs once per item. */
  index?: number;
  delta: string;
}

/** Characters per NOTIFY payload (JSON escaping can double them; PostgreSQL's limit is 8000 bytes). */
const CHUNK = 3000;

export interface TokenSink {
  push(delta: string): void;
  /** The step is over: what was not announced yet goes now if anything was, else it is dropped. */
  close(): void;
}

export class TokenPublisher {
  constructor(
    private readonly db: Database,
    private readonly intervalMs = 100,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  open(key: Omit<TokenDelta, 'delta'>): TokenSink {
    let buffer = '';
    let announced = false;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      if (!buffer) return;
      const text = buffer;
      buffer = '';
      announced = true;
      const payloads: string[] = [];
      for (let i = 0; i < text.length; i += CHUNK)
        payloads.push(JSON.stringify({ ...key, delta: text.slice(i, i + CHUNK) }));
      void this.db
        .system(async (tx) => {
          for (const p of payloads) await tx.execute(sql`SELECT pg_notify(${CHANNELS.tokens}, ${p})`);
        })
        .catch(this.onError);
    };
    return {
      push: (delta) => {
        buffer += delta;
        timer ??= setInterval(flush, this.intervalMs);
      },
      close: () => {
        if (timer) clearInterval(timer);
        if (announced) flush();
      },
    };
  }
}
