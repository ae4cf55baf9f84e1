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
  /** Runs announced lately (insertion order = age), so a waiter that registers late knows it missed one. */
  private readonly recent = new Set<string>();
  private listeningSince = Number.POSITIVE_INFINITY;

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
        for (const id of ids) {
          this.noted(String(id));
          for (const h of this.handlers.get(String(id)) ?? []) h();
        }
      })
      .then((u) => {
        this.unlisten = u;
        this.listeningSince = Date.now();
      });
    return this.starting;
  }

  private noted(runId: string) {
    this.recent.delete(runId);
    this.recent.add(runId);
    if (this.recent.size > 20_000) {
      let n = 0;
      for (const id of this.recent) {
        if (n++ >= 5_000) break;
        this.recent.delete(id);
      }
    }
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
  async waitForFinal(
    organizationId: string,
    runId: string,
    ms: number,
    /** The run was created after this time (ms) by this caller: nothing to read before it is announced. */
    createdAfter?: number,
  ): Promise<RunRow> {
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
      // A run created while this process was already listening, and not announced since, has not
      // finished: skip the first read (it would only find it pending).
      let skip = createdAfter !== undefined && this.listeningSince < createdAfter && !this.recent.has(runId);
      for (;;) {
        changed = false;
        let run: RunRow | undefined;
        if (!skip) {
          run = await read();
          if (FINAL.includes(run.status)) return run;
        }
        skip = false;
        const left = deadline - Date.now();
        if (left <= 0) return run ?? read();
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
