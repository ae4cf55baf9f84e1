import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CodeLimits } from '@aiops/core';

/** A line the code wrote with `console.*`. */
export interface CodeLog {
  level: 'debug' | 'info' | 'warning' | 'error';
  message: string;
}

export interface CodeError {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

/** What a run of user code gave: its output (JSON) or error, its console lines, time and memory. */
export type CodeRunResult = (
  | { ok: true; output: unknown; error?: undefined }
  | { ok: false; error: CodeError; output?: undefined }
) & {
  logs: CodeLog[];
  /** Wall-clock time of the run in the sandbox thread, ms. */
  durationMs: number;
  /** Time spent inside the interpreter (what the CPU limit counts), ms. */
  cpuMs: number;
  /** Memory the code's heap held when it finished, bytes. */
  memoryBytes: number;
};

export interface SandboxResponse {
  status: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** How the code's `fetch` reaches the network: the caller checks the allow-list and uses guardedFetch. */
export type SandboxFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<SandboxResponse>;

export interface CodeRunRequest {
  code: string;
  language: 'javascript' | 'typescript';
  input: unknown;
  nodes: Record<string, unknown>;
  variables: Record<string, unknown>;
  limits: CodeLimits;
  /** Present only when the tier and the node allow network. */
  fetch?: SandboxFetch | undefined;
  signal?: AbortSignal | undefined;
}

interface Job {
  id: number;
  request: CodeRunRequest;
  args: string;
  resolve: (r: CodeRunResult) => void;
}

interface Thread {
  worker: Worker;
  /** The memory class: jobs with this memory limit run here (the thread's WebAssembly memory cap). */
  memoryMb: number;
  isReady: boolean;
  job?: Job | undefined;
  killTimer?: NodeJS.Timeout | undefined;
}

/** Time the host waits past a job's wall-clock limit before it kills the thread. */
const KILL_GRACE_MS = 1_500;
const THREAD_SCRIPT = new URL('./sandbox-thread.mjs', import.meta.url);
/** Inputs the code receives, serialized, at most. */
export const MAX_CODE_ARGS_CHARS = 8 * 1024 * 1024;

const failure = (code: string, message: string, retryable = false): CodeRunResult => ({
  ok: false,
  error: { code, message, retryable },
  logs: [],
  durationMs: 0,
  cpuMs: 0,
  memoryBytes: 0,
});

/**
 * A pool of sandbox threads, each running QuickJS compiled to WebAssembly (see ARCHITECTURE.md "Code
 * steps"). A thread's WebAssembly memory is capped at one memory limit (its class: one per tier limit in
 * use), so up to `size` threads run per class, started at the first job of that class. A thread runs one
 * job at a time; jobs wait in a queue for a free thread of their class. A thread that does not
 * answer within a job's wall-clock limit (plus a grace) is terminated and replaced, and a thread is also
 * replaced after a job left its engine in a state not worth reusing (runaway loop, memory bomb) or grew
 * its WebAssembly memory: the pool, and the process it lives in, never go down with a job.
 */
export class CodeSandbox {
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private seq = 0;
  private closed = false;

  constructor(readonly size = Math.max(1, Math.min(4, availableParallelism()))) {}

  run(request: CodeRunRequest): Promise<CodeRunResult> {
    if (this.closed) return Promise.resolve(failure('code_sandbox_closed', 'The sandbox is shut down', true));
    let args: string;
    try {
      args = JSON.stringify({
        input: request.input ?? null,
        nodes: request.nodes,
        variables: request.variables,
      });
    } catch (e) {
      return Promise.resolve(
        failure('code_input_invalid', `The code's input is not JSON: ${(e as Error).message}`),
      );
    }
    if (args.length > MAX_CODE_ARGS_CHARS) {
      return Promise.resolve(
        failure(
          'code_input_too_large',
          `The code's input, nodes and variables are ${args.length} characters of JSON; at most ${MAX_CODE_ARGS_CHARS} are allowed`,
        ),
      );
    }
    return new Promise((resolve) => {
      this.queue.push({ id: ++this.seq, request, args, resolve });
      this.pump();
    });
  }

  /** Threads running a job now, and jobs waiting. */
  stats(): { busy: number; queued: number; threads: number } {
    return {
      busy: this.threads.filter((t) => t.job).length,
      queued: this.queue.length,
      threads: this.threads.length,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.resolve(failure('code_sandbox_closed', 'The sandbox is shut down', true));
    await Promise.all(
      this.threads.map(async (t) => {
        clearTimeout(t.killTimer);
        t.job?.resolve(failure('code_sandbox_closed', 'The sandbox was shut down during the run', true));
        t.job = undefined;
        await t.worker.terminate();
      }),
    );
  }

  private spawn(memoryMb: number): Thread {
    const worker = new Worker(THREAD_SCRIPT, {
      workerData: { memoryMb },
      // The engine's heap is WebAssembly memory (bounded per job); this bounds the thread's own JS heap.
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
      env: {},
      stdout: false,
      stderr: true,
    });
    worker.unref();
    const thread: Thread = { worker, memoryMb, isReady: false };
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'ready') {
        thread.isReady = true;
        this.pump();
      } else if (m.type === 'done') this.finish(thread, m.result);
      else if (m.type === 'fetch') void this.fetchFor(thread, m);
    });
    worker.on('error', () => {});
    worker.on('exit', () =>
      this.replace(thread, 'code_sandbox_error', 'The sandbox thread stopped during the run'),
    );
    return thread;
  }

  /** Gives queued jobs to idle threads of their class, starting threads up to `size` per class. */
  private pump(): void {
    if (this.closed) return;
    const starting = new Map<number, number>();
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i]!;
      const mb = job.request.limits.memoryMb;
      const idle = this.threads.find((t) => t.memoryMb === mb && t.isReady && !t.job);
      if (idle) {
        this.queue.splice(i, 1);
        this.start(idle, job);
        continue;
      }
      const ofClass = this.threads.filter((t) => t.memoryMb === mb);
      const notReady = ofClass.filter((t) => !t.isReady).length - (starting.get(mb) ?? 0);
      if (notReady > 0) starting.set(mb, (starting.get(mb) ?? 0) + 1);
      else if (ofClass.length < this.size) {
        this.threads.push(this.spawn(mb));
        starting.set(mb, (starting.get(mb) ?? 0) + 1);
      }
      i++;
    }
  }

  private start(thread: Thread, job: Job): void {
    const { request } = job;
    if (request.signal?.aborted) {
      job.resolve(failure('cancelled', 'The run was stopped'));
      this.pump();
      return;
    }
    thread.job = job;
    thread.killTimer = setTimeout(() => {
      this.replace(
        thread,
        'code_timeout',
        `The code ran longer than its ${request.limits.wallMs} ms wall-clock limit and was stopped`,
        false,
      );
    }, request.limits.wallMs + KILL_GRACE_MS);
    thread.killTimer.unref();
    request.signal?.addEventListener(
      'abort',
      () => {
        if (thread.job === job) this.replace(thread, 'cancelled', 'The run was stopped', false);
      },
      { once: true },
    );
    thread.worker.postMessage({
      type: 'run',
      job: {
        id: job.id,
        code: request.code,
        language: request.language,
        args: job.args,
        limits: request.limits,
        network: Boolean(request.fetch && request.limits.network),
      },
    });
  }

  private finish(thread: Thread, result: ThreadResult): void {
    const job = thread.job;
    clearTimeout(thread.killTimer);
    thread.job = undefined;
    if (job) {
      const common = {
        logs: result.logs,
        durationMs: result.durationMs,
        cpuMs: result.cpuMs,
        memoryBytes: result.memoryBytes,
      };
      job.resolve(
        result.ok
          ? { ok: true, output: JSON.parse(result.output), ...common }
          : { ok: false, error: result.error, ...common },
      );
    }
    if (result.recycle) this.replace(thread);
    else this.pump();
  }

  /** Terminates a thread (failing its job, if any) and puts a fresh one in its place. */
  private replace(thread: Thread, code?: string, message?: string, retryable = true): void {
    const index = this.threads.indexOf(thread);
    if (index < 0) return;
    clearTimeout(thread.killTimer);
    const job = thread.job;
    thread.job = undefined;
    if (job && code && message) job.resolve(failure(code, message, retryable));
    if (this.closed) return;
    this.threads[index] = this.spawn(thread.memoryMb);
    void thread.worker.terminate();
  }

  private async fetchFor(thread: Thread, m: Extract<ThreadMessage, { type: 'fetch' }>): Promise<void> {
    const job = thread.job;
    const answer = (a: { ok: true; value: string } | { ok: false; error: string }) => {
      if (thread.job === job && job) thread.worker.postMessage({ type: 'fetched', reqId: m.reqId, ...a });
    };
    if (!job || job.id !== m.jobId || !job.request.fetch)
      return answer({ ok: false, error: 'network is off' });
    try {
      const init = JSON.parse(m.init) as { method: string; headers: Record<string, string>; body?: string };
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(init.headers ?? {})) headers[String(k)] = String(v);
      const response = await job.request.fetch(m.url, {
        method: String(init.method ?? 'GET'),
        headers,
        ...(init.body === undefined ? {} : { body: String(init.body) }),
      });
      answer({ ok: true, value: JSON.stringify(response) });
    } catch (e) {
      answer({ ok: false, error: (e as Error)?.message ?? String(e) });
    }
  }
}

type ThreadResult =
  | ({ ok: true; output: string } & ThreadCommon)
  | ({ ok: false; error: CodeError } & ThreadCommon);

interface ThreadCommon {
  logs: CodeLog[];
  durationMs: number;
  cpuMs: number;
  memoryBytes: number;
  recycle: boolean;
}

type ThreadMessage =
  | { type: 'ready' }
  | { type: 'done'; jobId: number; result: ThreadResult }
  | { type: 'fetch'; jobId: number; reqId: number; url: string; init: string };
