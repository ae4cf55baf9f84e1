import type { Database } from '@aiops/db';
import { getRun, type RunRow } from './run-rows.ts';
import { FINAL } from './runs.ts';
import type { TokenDelta } from './tokens.ts';
import { CHANNELS } from './types.ts';

/**
 * Tells interested parties (event streams, API calls waiting for a run) that a run changed. One LISTEN
 * for the whole process; callbacks by run id.
 */
export class RunWatcher {
  private readonly handlers = new Map<string, Set<() => void>>();
  private readonly tokenHandlers = new Map<string, Set<(t: TokenDelta) => void>>();
  private unlisten: (() => Promise<void>) | undefined;
  private unlistenTokens: (() => Promise<void>) | undefined;
  private starting: Promise<void> | undefined;
  private startingTokens: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly pollMs = 500,
  ) {}

  private ensureStarted(): Promise<void> {
    this.starting ??= this.db
      .listen(CHANNELS.runEvents, (payload) => {
        let ids: unknown;
        try {
          ids = JSON.parse(payload);
        } catch {
          return;
        }
        if (!Array.isArray(ids)) return;
        for (const id of ids) for (const h of this.handlers.get(String(id)) ?? []) h();
      })
      .then((u) => {
        this.unlisten = u;
      });
    return this.starting;
  }

  /** Calls `onChange` whenever the run changes; returns the function that stops watching. */
  async watch(runId: string, onChange: () => void): Promise<() => void> {
    await this.ensureStarted();
    const set = this.handlers.get(runId) ?? new Set();
    set.add(onChange);
    this.handlers.set(runId, set);
    return () => {
      set.delete(onChange);
      if (!set.size) this.handlers.delete(runId);
    };
  }

  /** Calls `onToken` with each batch of streamed model text of the run; returns the function that stops. */
  async watchTokens(runId: string, onToken: (t: TokenDelta) => void): Promise<() => void> {
    this.startingTokens ??= this.db
      .listen(CHANNELS.tokens, (payload) => {
        let t: TokenDelta;
        try {
          t = JSON.parse(payload) as TokenDelta;
        } catch {
          return;
        }
        for (const h of this.tokenHandlers.get(t.runId) ?? []) h(t);
      })
      .then((u) => {
        this.unlistenTokens = u;
      });
    await this.startingTokens;
    const set = this.tokenHandlers.get(runId) ?? new Set();
    set.add(onToken);
    this.tokenHandlers.set(runId, set);
    return () => {
      set.delete(onToken);
      if (!set.size) this.tokenHandlers.delete(runId);
    };
  }

  /**
   * Waits until the run is final or `ms` pass. It listens before it reads, and a notification that arrives
   * while a read is in flight makes it read again at once (no lost wake-up); a poll every `pollMs` covers a
   * notification lost on the wire.
   */
  async waitForFinal(organizationId: string, runId: string, ms: number): Promise<RunRow> {
    const read = () => this.db.withTenant(organizationId, (tx) => getRun(tx, runId));
    if (ms <= 0) return read();
    let changed = false;
    let wake: (() => void) | undefined;
    const stop = await this.watch(runId, () => {
      changed = true;
      wake?.();
    });
    try {
      const deadline = Date.now() + ms;
      for (;;) {
        changed = false;
        const run = await read();
        const left = deadline - Date.now();
        if (FINAL.includes(run.status) || left <= 0) return run;
        if (changed) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(this.pollMs, left));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      stop();
    }
  }

  async close(): Promise<void> {
    await this.unlisten?.();
    await this.unlistenTokens?.();
    this.handlers.clear();
    this.tokenHandlers.clear();
  }
}
