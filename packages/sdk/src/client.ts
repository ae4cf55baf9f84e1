import createClient, { type Client } from 'openapi-fetch';
import { AiopsTimeoutError, apiError } from './errors.ts';
import type { components, paths } from './openapi.gen.ts';
import { type RetryOptions, retryOn429 } from './retry.ts';
import { readServerSentEvents } from './sse.ts';

export type Schemas = components['schemas'];
export type Run = Schemas['Run'];
export type RunDetail = Schemas['RunDetail'];
export type StartRun = Schemas['StartRun'];
export type Workflow = Schemas['Workflow'];
export type WorkflowSummary = Schemas['WorkflowSummary'];
export type RunStatus = Run['status'];
/** One event of a run's stream: run.* and step.* changes, and `log` lines when asked for. */
export type RunEvent = Schemas['RunEvent'];

/** The statuses after which a run changes no more. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'timeout'];
export const isFinalRunStatus = (s: string): s is RunStatus =>
  (FINAL_RUN_STATUSES as readonly string[]).includes(s);

/** The typed low-level client (openapi-fetch): every path and body of the API, checked at compile time. */
export type ApiClient = Client<paths>;

type GetJson<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': infer B } } } };
}
  ? B
  : never;
/** Paths whose GET answers a page: `{data: [...], nextCursor}`. */
export type ListPath = {
  [P in keyof paths]: GetJson<P> extends { data: unknown[]; nextCursor: string | null } ? P : never;
}[keyof paths];
export type ListItem<P extends ListPath> = GetJson<P> extends { data: (infer T)[] } ? T : never;
type GetParams<P extends ListPath> = paths[P] extends { get: { parameters: infer Q } } ? Q : never;
export type ListParams<P extends ListPath> = {
  query?: Omit<NonNullable<GetParams<P> extends { query?: infer Q } ? Q : never>, 'cursor'>;
  path?: GetParams<P> extends { path: infer T } ? T : never;
};

export interface AiopsClientOptions {
  /** The server, e.g. `http://127.0.0.1:3000` (paths carry `/api/v1`). */
  baseUrl: string;
  /** A user access token or an API key (`aio_…`), or a function giving one per request. */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Retries of 429 answers after Retry-After (default: 3 retries, waits up to 60 s); false: none. */
  retry?: RetryOptions | false;
  /** The fetch to use (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * Whether requests carry cookies (the Request `credentials` mode): a browser page signed in by a session
   * cookie passes `'same-origin'` (or `'include'` for another origin) instead of a token.
   */
  credentials?: 'omit' | 'same-origin' | 'include';
}

export interface WaitOptions {
  /** Give up waiting after this long (the run goes on): throws AiopsTimeoutError. Default 10 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface EventOptions {
  /** The run's log lines too, as `log` events (a live tail). */
  logs?: boolean;
  signal?: AbortSignal;
  /** Reconnections after the stream broke before the run ended (default 5); events are never repeated. */
  maxReconnects?: number;
}

type Answer<D> = { data?: D; error?: unknown; response: Response };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The AI Ops Studio client: `api` is the typed client of every route; the methods here are what raw
 * HTTP makes awkward (wait for a run, follow its events, page through lists) and throw typed errors
 * (AiopsApiError and its subclasses) carrying the error body.
 */
export class AiopsClient {
  readonly api: ApiClient;
  readonly baseUrl: string;

  constructor(options: AiopsClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const base = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    const fetch = options.retry === false ? base : retryOn429(base, options.retry);
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      fetch,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    const token = options.token;
    if (token !== undefined) {
      this.api.use({
        async onRequest({ request }) {
          const value = typeof token === 'function' ? await token() : token;
          if (value) request.headers.set('authorization', `Bearer ${value}`);
          return request;
        },
      });
    }
  }

  /** The data of a typed call (`client.call(client.api.GET(...))`), or its typed error thrown. */
  async call<D>(pending: Promise<Answer<D>>): Promise<D> {
    const { data, error, response } = await pending;
    if (!response.ok || error !== undefined) throw apiError(response, error);
    return data as D;
  }

  /** Every item of a list, page after page (`?cursor=` from each page's `nextCursor`). */
  async *paginate<P extends ListPath>(path: P, params: ListParams<P> = {}): AsyncGenerator<ListItem<P>> {
    let cursor: string | undefined;
    do {
      const init = { params: { ...params, query: { ...params.query, ...(cursor ? { cursor } : {}) } } };
      const page = await this.call(
        (
          this.api.GET as (
            p: string,
            i: unknown,
          ) => Promise<Answer<{ data: unknown[]; nextCursor: string | null }>>
        )(path, init),
      );
      for (const item of page.data) yield item as ListItem<P>;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** Starts a run of a workflow (its current version unless `version`); answers at once (202) or after `wait`. */
  startRun(workflowId: string, body: Partial<StartRun> = {}, options: { idempotencyKey?: string } = {}) {
    return this.call(
      this.api.POST('/api/v1/workflows/{id}/runs', {
        params: { path: { id: workflowId } },
        body: body as StartRun,
        ...(options.idempotencyKey ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
      }),
    );
  }

  /** A run with its steps and every attempt. */
  getRun(runId: string): Promise<RunDetail> {
    return this.call(this.api.GET('/api/v1/runs/{id}', { params: { path: { id: runId } } }));
  }

  /**
   * Starts a run and waits for its end (the server holds the request up to 300 s, then the run's events
   * are followed): the finished run with its steps. A failed run is returned, not thrown: see `status`.
   */
  async startRunAndWait(
    workflowId: string,
    body: Partial<StartRun> = {},
    options: WaitOptions & { idempotencyKey?: string } = {},
  ): Promise<RunDetail> {
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? 600_000;
    const wait = Math.min(300, Math.max(0, Math.floor(timeoutMs / 1000)));
    const run = await this.startRun(workflowId, { ...body, wait }, options);
    if (isFinalRunStatus(run.status)) return this.getRun(run.id);
    return this.waitForRun(run.id, {
      ...options,
      timeoutMs: Math.max(0, timeoutMs - (Date.now() - started)),
    });
  }

  /** Waits for a run's end by following its events; the finished run with its steps. */
  async waitForRun(runId: string, options: WaitOptions = {}): Promise<RunDetail> {
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      for await (const event of this.runEvents(runId, { signal })) {
        if (event.type.startsWith('run.') && isFinalRunStatus(event.type.slice(4))) break;
      }
    } catch (e) {
      if (timeout.aborted && !options.signal?.aborted) throw new AiopsTimeoutError(runId, timeoutMs);
      throw e;
    }
    return this.getRun(runId);
  }

  /**
   * A run's events as they happen (Server-Sent Events of `GET /runs/:id/events`): first what happened so
   * far, then each change, ending after the run's final event. A broken stream is reopened (up to
   * `maxReconnects` times) and no event is given twice.
   */
  async *runEvents(runId: string, options: EventOptions = {}): AsyncGenerator<RunEvent> {
    const seen = new Set<string>();
    let reconnects = 0;
    for (;;) {
      const { data, error, response } = await this.api.GET('/api/v1/runs/{id}/events', {
        params: { path: { id: runId }, query: options.logs ? { logs: 'true' } : {} },
        parseAs: 'stream',
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (!response.ok || error !== undefined || !data) throw apiError(response, error);
      let ended = false;
      try {
        for await (const sse of readServerSentEvents(data)) {
          // Live model text (`step.token`, no id, not replayed) is not a RunEvent: the step's output carries it.
          if (sse.event === 'step.token') continue;
          const key = sse.id ?? sse.data;
          if (seen.has(key)) continue;
          seen.add(key);
          const event = JSON.parse(sse.data) as RunEvent;
          if (event.type.startsWith('run.') && isFinalRunStatus(event.type.slice(4))) ended = true;
          yield event;
        }
      } catch (e) {
        if (options.signal?.aborted) throw e;
      }
      if (ended) return;
      if (++reconnects > (options.maxReconnects ?? 5)) {
        throw new Error(`the event stream of run ${runId} ended ${reconnects} times before the run did`);
      }
      await sleep(250 * reconnects);
    }
  }
}

/** A client of the AI Ops Studio API (see AiopsClient). */
export function createAiopsClient(options: AiopsClientOptions): AiopsClient {
  return new AiopsClient(options);
}
