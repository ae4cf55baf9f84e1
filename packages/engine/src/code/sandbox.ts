import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
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
  /** Abandons the thread if it has not said it is ready in time. */
  readyTimer?: NodeJS.Timeout | undefined;
}

export interface CodeSandboxOptions {
  /**
   * A thread that has not said it is ready this long after it was started is abandoned and replaced
   * (default 60 s; a thread starts in about a second, a few on a loaded machine).
   */
  readyTimeoutMs?: number;
  /** The thread's script (tests start threads that misbehave). */
  threadScript?: URL;
}

/** Time the host waits past a job's wall-clock limit before it kills the thread. */
const KILL_GRACE_MS = 1_500;
const THREAD_SCRIPT = new URL('./sandbox-thread.mjs', import.meta.url);
const READY_TIMEOUT_MS = 60_000;
/** Wait before starting a thread again after one stopped before it was ready (no tight restart loop). */
const RESTART_DELAY_MS = 1_000;
/** Inputs the code receives, serialized, at most. */
export const MAX_CODE_ARGS_CHARS = 8 * 1024 * 1024;

let quickjsWasm: Promise<WebAssembly.Module | undefined> | undefined;

/**
 * QuickJS's WebAssembly, compiled once per process (asynchronously, off the event loop) and handed to
 * every thread, which only instantiates it: a thread then starts without compiling its own copy, and the
 * machine code is shared. If it cannot be compiled here, each thread compiles its own.
 */
function compiledQuickJS(): Promise<WebAssembly.Module | undefined> {
  quickjsWasm ??= readFile(createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm'))
    .then((bytes) => WebAssembly.compile(bytes))
    .catch(() => undefined);
  return quickjsWasm;
}

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
  private wasm: WebAssembly.Module | undefined;
  /** Threads that stopped, or were abandoned, before they were ready. */
  private startFailures = 0;

  constructor(
    readonly size = Math.max(1, Math.min(4, availableParallelism())),
    private readonly options: CodeSandboxOptions = {},
  ) {}

  async run(request: CodeRunRequest): Promise<CodeRunResult> {
    if (this.closed) return failure('code_sandbox_closed', 'The sandbox is shut down', true);
    let args: string;
    try {
      args = JSON.stringify({
        input: request.input ?? null,
        nodes: request.nodes,
        variables: request.variables,
      });
    } catch (e) {
      return failure('code_input_invalid', `The code's input is not JSON: ${(e as Error).message}`);
    }
    if (args.length > MAX_CODE_ARGS_CHARS) {
      return failure(
        'code_input_too_large',
        `The code's input, nodes and variables are ${args.length} characters of JSON; at most ${MAX_CODE_ARGS_CHARS} are allowed`,
      );
    }
    this.wasm ??= await compiledQuickJS();
    if (this.closed) return failure('code_sandbox_closed', 'The sandbox is shut down', true);
    return new Promise((resolve) => {
      this.queue.push({ id: ++this.seq, request, args, resolve });
      this.pump();
    });
  }

  /** Threads running a job now, jobs waiting, threads (ready or starting), and failed thread starts. */
  stats(): { busy: number; queued: number; threads: number; ready: number; startFailures: number } {
    return {
      busy: this.threads.filter((t) => t.job).length,
      queued: this.queue.length,
      threads: this.threads.length,
      ready: this.threads.filter((t) => t.isReady).length,
      startFailures: this.startFailures,
    };
  }

  /**
   * Fails queued and running jobs (retryable) and stops the threads. It waits at most `waitMs` for them:
   * a thread stuck outside JavaScript may never stop, and shutdown must not hang on it; threads are
   * unref'd, so one left behind does not keep the process alive.
   */
  async close(waitMs = 5_000): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.resolve(failure('code_sandbox_closed', 'The sandbox is shut down', true));
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      timer.unref();
    });
    const stopped = Promise.all(
      this.threads.map(async (t) => {
        clearTimeout(t.killTimer);
        clearTimeout(t.readyTimer);
        t.job?.resolve(failure('code_sandbox_closed', 'The sandbox was shut down during the run', true));
        t.job = undefined;
        await t.worker.terminate();
      }),
    );
    await Promise.race([stopped, bound]);
    clearTimeout(timer);
  }

  private spawn(memoryMb: number): Thread {
    const worker = new Worker(this.options.threadScript ?? THREAD_SCRIPT, {
      workerData: { memoryMb, wasmModule: this.wasm },
      // Plain JavaScript: no loader or flag of the host process (tsx, test runners) is needed or wanted.
      execArgv: [],
      // The engine's heap is WebAssembly memory (bounded per job); this bounds the thread's own JS heap.
      resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 },
      env: {},
      stdout: false,
      stderr: true,
    });
    worker.unref();
    const thread: Thread = { worker, memoryMb, isReady: false };
    thread.readyTimer = setTimeout(() => {
      if (this.discard(thread)) this.pump();
    }, this.options.readyTimeoutMs ?? READY_TIMEOUT_MS);
    thread.readyTimer.unref();
    worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'ready') {
        clearTimeout(thread.readyTimer);
        thread.isReady = true;
        this.pump();
      } else if (m.type === 'done') this.finish(thread, m.result);
      else if (m.type === 'fetch') void this.fetchFor(thread, m);
    });
    worker.on('error', () => {});
    worker.on('exit', () => {
      if (thread.isReady)
        this.replace(thread, 'code_sandbox_error', 'The sandbox thread stopped during the run');
      else if (this.discard(thread)) setTimeout(() => this.pump(), RESTART_DELAY_MS).unref();
    });
    return thread;
  }

  /**
   * Drops a thread that never became ready (it stopped, or is stuck starting), so that `pump` may start
   * another for the jobs waiting. Its termination is not awaited: a stuck thread may never stop.
   */
  private discard(thread: Thread): boolean {
    const index = this.threads.indexOf(thread);
    if (index < 0) return false;
    clearTimeout(thread.readyTimer);
    this.threads.splice(index, 1);
    this.startFailures++;
    void thread.worker.terminate().catch(() => {});
    return true;
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
    clearTimeout(thread.readyTimer);
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
