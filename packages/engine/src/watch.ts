import type { Database } from '@aiops/db';
import { RunReader } from './run-reader.ts';
import type { RunRow } from './run-rows.ts';
import { FINAL } from './runs.ts';
import type { TokenDelta } from './tokens.ts';
import { CHANNELS } from './types.ts';

/**
 * Where a worker of this process reports the step completions it records (`Worker.reportTo`): the runs of
 * a batch before it commits, and after it the runs it finished with their final rows (when someone here
 * waits for them). A waiting call then takes the row instead of reading it.
 */
export interface CompletionSink {
  /** Run ids a batch of completions is about to touch. */
  begin(runIds: string[]): void;
  /** Of these runs, the ones somebody in this process waits for. */
  awaited(runIds: string[]): string[];
  /** The batch is over: `finished` ended in it (their rows in `rows` when they were read). */
  end(runIds: string[], finished: string[], rows: RunRow[]): void;
}

interface Waiter {
  /** A notification that the run may have ended (or the local batch that ended it could not hand the row). */
  changed: boolean;
  row?: RunRow;
  wake?: () => void;
}

/**
 * Tells interested parties (event streams, API calls waiting for a run) that a run changed. One LISTEN
 * for the whole process; callbacks by run id. A notification is an array of run ids (changed, maybe
 * ended) or `{"open": [ids]}` (changed, still open: migration 0017), which wakes event streams but not
 * calls waiting for the end. As the process's `CompletionSink` it hands runs its own worker finished to
 * waiting calls without a read.
 */
export class RunWatcher implements CompletionSink {
  private readonly handlers = new Map<string, Set<(maybeFinal: boolean) => void>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Runs in a local completion batch that has not ended: their waiters wait for its end, not read. */
  private readonly inFlight = new Map<string, number>();
  private readonly tokenHandlers = new Map<string, Set<(t: TokenDelta) => void>>();
  private unlisten: (() => Promise<void>) | undefined;
  private unlistenTokens: (() => Promise<void>) | undefined;
  private starting: Promise<void> | undefined;
  private startingTokens: Promise<void> | undefined;
  /** Runs announced lately (insertion order = age), so a waiter that registers late knows it missed one. */
  private readonly recent = new Set<string>();
  private listeningSince = Number.POSITIVE_INFINITY;
  private readonly reader: RunReader;

  constructor(
    private readonly db: Database,
    private readonly pollMs = 500,
  ) {
    this.reader = new RunReader(db);
  }

  private ensureStarted(): Promise<void> {
    this.starting ??= this.db
      .listen(CHANNELS.runEvents, (payload) => {
        let ids: unknown;
        try {
          ids = JSON.parse(payload);
        } catch {
          return;
        }
        const open = !Array.isArray(ids) && typeof ids === 'object' && ids !== null;
        const list: unknown = open ? (ids as { open?: unknown }).open : ids;
        if (!Array.isArray(list)) return;
        for (const item of list) {
          const id = String(item);
          if (!open) this.noted(id);
          for (const h of this.handlers.get(id) ?? []) h(!open);
          if (!open) for (const w of this.waiters.get(id) ?? []) this.touch(w);
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

  private touch(w: Waiter) {
    w.changed = true;
    w.wake?.();
  }

  begin(runIds: string[]): void {
    for (const id of runIds) this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1);
  }

  awaited(runIds: string[]): string[] {
    return runIds.filter((id) => this.waiters.has(id));
  }

  end(runIds: string[], finished: string[], rows: RunRow[]): void {
    for (const row of rows) {
      if (!FINAL.includes(row.status)) continue;
      for (const w of this.waiters.get(row.id) ?? []) w.row = row;
    }
    // Ended here but no row handed over (the read failed, or the waiter came late): they read.
    for (const id of finished) for (const w of this.waiters.get(id) ?? []) if (!w.row) w.changed = true;
    for (const id of runIds) {
      const n = (this.inFlight.get(id) ?? 1) - 1;
      if (n > 0) {
        this.inFlight.set(id, n);
        continue;
      }
      this.inFlight.delete(id);
      for (const w of this.waiters.get(id) ?? []) w.wake?.();
    }
  }

  /**
   * Calls `onChange` whenever the run changes (`maybeFinal` false when the change left it open); returns
   * the function that stops watching.
   */
  async watch(runId: string, onChange: (maybeFinal: boolean) => void): Promise<() => void> {
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
   * notification lost on the wire. Notifications that a run is still open do not make it read, and a run
   * whose completion this process's worker is recording is not read before that batch ends: the batch
   * hands its final row over (`end`).
   */
  async waitForFinal(
    organizationId: string,
    runId: string,
    ms: number,
    /** The run was created after this time (ms) by this caller: nothing to read before it is announced. */
    createdAfter?: number,
  ): Promise<RunRow> {
    const read = () => this.reader.read(organizationId, runId);
    if (ms <= 0) return read();
    await this.ensureStarted();
    const w: Waiter = { changed: false };
    const set = this.waiters.get(runId) ?? new Set();
    set.add(w);
    this.waiters.set(runId, set);
    try {
      const deadline = Date.now() + ms;
      // A run created while this process was already listening, and not announced since, has not
      // finished: skip the first read (it would only find it pending).
      let skip = createdAfter !== undefined && this.listeningSince < createdAfter && !this.recent.has(runId);
      let polled = false;
      for (;;) {
        if (w.row) return w.row;
        let run: RunRow | undefined;
        if (!skip && !this.inFlight.has(runId)) {
          w.changed = false;
          run = await read();
          if (FINAL.includes(run.status)) return run;
          if (w.row) return w.row;
        }
        const left = deadline - Date.now();
        if (left <= 0) return w.row ?? run ?? read();
        if (w.changed && !this.inFlight.has(runId)) {
          skip = false;
          continue;
        }
        polled = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(true), Math.min(this.pollMs, left));
          w.wake = () => {
            clearTimeout(t);
            resolve(false);
          };
        });
        w.wake = undefined;
        // Read after a poll's timeout or a maybe-final notification; a local batch's end without either
        // means the run is still open.
        skip = !polled && !w.changed;
      }
    } finally {
      set.delete(w);
      if (!set.size) this.waiters.delete(runId);
    }
  }

  async close(): Promise<void> {
    await this.unlisten?.();
    await this.unlistenTokens?.();
    this.handlers.clear();
    this.tokenHandlers.clear();
    this.inFlight.clear();
  }
}
