// One sandbox thread (issue 21): a QuickJS engine compiled to WebAssembly, loaded once per thread. Each
// job gets a fresh QuickJS runtime and context (its own heap, with the job's memory limit), is interrupted
// by the interpreter's interrupt handler at its CPU-time or wall-clock limit, and is disposed afterwards,
// so nothing of a job (globals, pending promises, polluted prototypes) outlives it. The code sees only what
// the prelude below gives it: console, crypto randomness, Date/JSON/Math of the engine, and fetch when the
// job allows network (each request is made by the host through the platform's guarded fetch).
// Plain JavaScript so that it loads in a worker thread without a TypeScript loader.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModule, newVariant, RELEASE_SYNC } from 'quickjs-emscripten';
import { transform } from 'sucrase';

// The thread's memory class: its WebAssembly memory can never grow past the job limit plus the engine's
// own 16 MB, so a job that allocates more gets "out of memory" from malloc. (QuickJS's own malloc limit
// is also set, but its accounting under Emscripten does not see every allocation.)
const MEMORY_MB = workerData.memoryMb;
const PAGE = 64 * 1024;
const wasmMemory = new WebAssembly.Memory({ initial: 256, maximum: ((MEMORY_MB + 16) * 1024 * 1024) / PAGE });
// The host compiles QuickJS's WebAssembly once and hands the module to every thread (sandbox.ts).
const wasmModule = workerData.wasmModule;
const QuickJS = await newQuickJSWASMModule(
  newVariant(RELEASE_SYNC, wasmModule ? { wasmMemory, wasmModule } : { wasmMemory }),
);
const MAX_LOG_LINES = 200;
const MAX_LOG_CHARS = 4_000;
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;
const MAX_RANDOM_BYTES = 65_536;

/** Compiled sources by language and code (most recent last). */
const compiled = new Map();
/** Host answers to the running job's fetch calls, by request id. */
const fetches = new Map();
let fetchSeq = 0;
/** Set when a job left the WebAssembly engine in a state this thread should not reuse. */
let broken = false;

class CodeFailure extends Error {
  constructor(code, message, retryable = false, details) {
    super(message);
    this.code = code;
    this.retryable = retryable;
    this.details = details;
  }
}

/** The user's code as a function expression; TypeScript loses its types. Lines keep their numbers. */
function compile(code, language) {
  const key = `${language}\0${code}`;
  const hit = compiled.get(key);
  if (hit !== undefined) {
    compiled.delete(key);
    compiled.set(key, hit);
    return hit;
  }
  const wrapped = `(async function (input, nodes, variables) {${code}\n})`;
  let js = wrapped;
  if (language === 'typescript') {
    try {
      js = transform(wrapped, { transforms: ['typescript'], disableESTransforms: true }).code;
    } catch (e) {
      throw new CodeFailure('code_syntax_error', `TypeScript: ${e.message}`);
    }
  }
  compiled.set(key, js);
  if (compiled.size > 200) compiled.delete(compiled.keys().next().value);
  return js;
}

// The prelude runs first in every context: it takes the host functions off the global object and keeps
// them in closures, so user code can reach them only through console, crypto and fetch.
const PRELUDE = `(function (host) {
  'use strict';
  const g = globalThis;
  for (const k of Object.keys(host)) delete g[k];
  const text = (args) => args.map((a) => {
    if (typeof a === 'string') return a;
    if (a instanceof Error) return String(a.stack ? a.message + '\\n' + a.stack : a);
    try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch { return String(a); }
  }).join(' ');
  const log = host.__aiopsLog;
  const console = {};
  for (const [name, level] of [['log', 'info'], ['info', 'info'], ['debug', 'debug'], ['warn', 'warning'], ['error', 'error']])
    console[name] = (...args) => { log(level, text(args)); };
  g.console = Object.freeze(console);
  const random = host.__aiopsRandom;
  const uuid = host.__aiopsUuid;
  g.crypto = Object.freeze({
    randomUUID: () => uuid(),
    getRandomValues(view) {
      if (!ArrayBuffer.isView(view) || view instanceof Float32Array || view instanceof Float64Array)
        throw new TypeError('getRandomValues takes an integer typed array');
      const bytes = new Uint8Array(random(view.byteLength));
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(bytes);
      return view;
    },
  });
  const hostFetch = host.__aiopsFetch;
  if (hostFetch) {
    g.fetch = async (url, init) => {
      const o = init || {};
      const request = { method: o.method ? String(o.method) : 'GET', headers: o.headers || {}, body: o.body === undefined ? undefined : String(o.body) };
      const r = JSON.parse(await hostFetch(String(url), JSON.stringify(request)));
      return Object.freeze({
        status: r.status, ok: r.status >= 200 && r.status < 300, headers: r.headers, url: r.url,
        text: async () => r.body,
        json: async () => JSON.parse(r.body),
      });
    };
  }
})`;

const DRIVER = `(function (fn, json) {
  const a = JSON.parse(json);
  return fn(a.input, a.nodes, a.variables).then((v) => {
    const s = JSON.stringify(v === undefined ? null : v);
    return s === undefined ? 'null' : s;
  });
})`;

async function run(job) {
  const started = performance.now();
  const logs = [];
  let cpuMs = 0;
  /** When the current slice of interpreter time began; undefined outside the job's own code. */
  let sliceStart;
  let stop; // 'cpu' | 'wall'
  let outOfMemory = false;
  const wallDeadline = started + job.limits.wallMs;
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(job.limits.memoryMb * 1024 * 1024);
  rt.setMaxStackSize(1024 * 1024);
  rt.setInterruptHandler(() => {
    if (stop) return true;
    const now = performance.now();
    if (sliceStart !== undefined && cpuMs + (now - sliceStart) > job.limits.cpuMs) stop = 'cpu';
    else if (now > wallDeadline) stop = 'wall';
    return stop !== undefined;
  });
  const ctx = rt.newContext();
  /** Runs engine code, counting the time spent inside it as CPU time of the job. */
  const enter = (fn) => {
    sliceStart = performance.now();
    try {
      return fn();
    } finally {
      cpuMs += performance.now() - sliceStart;
      sliceStart = undefined;
    }
  };
  const failureOf = (errorHandle) => {
    let e;
    try {
      e = ctx.dump(errorHandle);
    } catch {
      // dumping runs in the engine: it fails only when the engine has no memory left
      e = { name: 'InternalError', message: 'out of memory' };
    }
    if (errorHandle.alive) errorHandle.dispose();
    if (stop === 'cpu')
      return new CodeFailure(
        'code_timeout',
        `The code used more than its ${job.limits.cpuMs} ms of CPU time`,
      );
    if (stop === 'wall')
      return new CodeFailure(
        'code_timeout',
        `The code ran longer than its ${job.limits.wallMs} ms wall-clock limit`,
      );
    const message = e && typeof e === 'object' ? String(e.message) : String(e);
    if (/out of memory/i.test(message)) {
      outOfMemory = true;
      return new CodeFailure(
        'code_memory_exceeded',
        `The code used more than its ${job.limits.memoryMb} MB of memory`,
      );
    }
    const name = e && typeof e === 'object' && e.name ? `${e.name}: ` : '';
    const stack = e && typeof e === 'object' && typeof e.stack === 'string' ? e.stack : undefined;
    return new CodeFailure(
      'code_error',
      `${name}${message}`.slice(0, 4_000),
      false,
      stack ? { stack: stack.split('\n').slice(0, 20).join('\n') } : undefined,
    );
  };
  const unwrap = (result) => {
    if (result.error) throw failureOf(result.error);
    return own(result.value);
  };
  let pendingFetches = 0;
  let wake;
  /** Every handle made for this job, disposed before the runtime (QuickJS aborts on a leaked object). */
  const owned = [];
  const own = (h) => {
    owned.push(h);
    return h;
  };
  try {
    const js = compile(job.code, job.language);
    const host = own(ctx.newObject());
    const fns = [
      ctx.newFunction('__aiopsLog', (levelH, textH) => {
        if (logs.length >= MAX_LOG_LINES) return;
        logs.push({ level: ctx.getString(levelH), message: ctx.getString(textH).slice(0, MAX_LOG_CHARS) });
      }),
      ctx.newFunction('__aiopsRandom', (nH) => {
        const n = Math.max(0, Math.min(MAX_RANDOM_BYTES, Math.floor(ctx.getNumber(nH)) || 0));
        const b = randomBytes(n);
        return ctx.newArrayBuffer(b.buffer.slice(b.byteOffset, b.byteOffset + n));
      }),
      ctx.newFunction('__aiopsUuid', () => ctx.newString(randomUUID())),
    ].map(own);
    if (job.network) {
      fns.push(
        ctx.newFunction('__aiopsFetch', (urlH, initH) => {
          const deferred = own(ctx.newPromise());
          const reqId = ++fetchSeq;
          pendingFetches++;
          fetches.set(reqId, (answer) => {
            pendingFetches--;
            if (!ctx.alive) return;
            if (answer.ok) {
              const s = ctx.newString(answer.value);
              deferred.resolve(s);
              s.dispose();
            } else {
              const e = ctx.newError(answer.error);
              deferred.reject(e);
              e.dispose();
            }
            wake?.();
          });
          parentPort.postMessage({
            type: 'fetch',
            jobId: job.id,
            reqId,
            url: ctx.getString(urlH),
            init: ctx.getString(initH),
          });
          return deferred.handle;
        }),
      );
      own(fns.at(-1));
    }
    for (const fn of fns) {
      const name = ctx.getProp(fn, 'name');
      ctx.setProp(host, ctx.getString(name), fn);
      name.dispose();
    }
    const prelude = unwrap(enter(() => ctx.evalCode(PRELUDE, 'prelude.js')));
    unwrap(enter(() => ctx.callFunction(prelude, ctx.undefined, host)));
    const userFn = unwrap(enter(() => ctx.evalCode(js, 'code.js')));
    const driver = unwrap(enter(() => ctx.evalCode(DRIVER, 'driver.js')));
    const args = own(ctx.newString(job.args));
    const promise = unwrap(enter(() => ctx.callFunction(driver, ctx.undefined, userFn, args)));
    for (;;) {
      const state = ctx.getPromiseState(promise);
      if (stop && state.type !== 'pending') {
        // settled, but a detached loop of the code ran into a limit meanwhile
        (state.type === 'fulfilled' ? state.value : state.error).dispose();
        throw failureOf(ctx.newString('interrupted'));
      }
      if (state.type === 'fulfilled') {
        const json = ctx.getString(own(state.value));
        if (json.length > MAX_OUTPUT_CHARS)
          throw new CodeFailure(
            'code_output_too_large',
            `The code returned ${json.length} characters of JSON; at most ${MAX_OUTPUT_CHARS} are kept`,
          );
        return { ok: true, output: json, logs, cpuMs, memoryBytes: memoryOf(rt, ctx) };
      }
      if (state.type === 'rejected') {
        throw failureOf(state.error);
      }
      const jobs = enter(() => rt.executePendingJobs());
      if (jobs.error) throw failureOf(jobs.error);
      if (rt.hasPendingJob()) continue;
      const now = ctx.getPromiseState(promise);
      if (now.type !== 'pending') {
        if (now.type === 'fulfilled') now.value.dispose();
        else now.error.dispose();
        continue;
      }
      if (pendingFetches === 0) {
        throw new CodeFailure(
          'code_unresolved',
          'The code awaited something that never settles (there are no timers in the sandbox)',
        );
      }
      const left = wallDeadline - performance.now();
      if (left <= 0) {
        stop = 'wall';
        throw failureOf(ctx.newString('interrupted'));
      }
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } catch (e) {
    const failure =
      e instanceof CodeFailure ? e : new CodeFailure('code_sandbox_error', String(e?.message ?? e), true);
    return {
      ok: false,
      error: {
        code: failure.code,
        message: failure.message,
        retryable: failure.retryable,
        ...(failure.details ? { details: failure.details } : {}),
      },
      logs,
      cpuMs,
      memoryBytes: ctx.alive ? memoryOf(rt, ctx) : 0,
    };
  } finally {
    fetches.clear();
    // A runtime stopped in the middle of its code (interrupt, out of memory) may keep objects QuickJS would
    // assert on when freed: it is left alone, and the thread is replaced after answering (`recycle`).
    if (stop || outOfMemory) broken = true;
    else {
      try {
        for (const h of owned.reverse()) if (h.alive) h.dispose();
        ctx.dispose();
        rt.dispose();
      } catch {
        broken = true;
      }
    }
  }
}

function memoryOf(rt, ctx) {
  const h = rt.computeMemoryUsage();
  try {
    const usage = ctx.dump(h);
    return Number(usage.memory_used_size ?? 0);
  } catch {
    return 0;
  } finally {
    h.dispose();
  }
}

// Warm up (the first job of a thread compiles the engine's hot paths) before saying ready.
await run({
  id: 0,
  code: 'return 1',
  language: 'javascript',
  args: '{}',
  limits: { memoryMb: MEMORY_MB, cpuMs: 5000, wallMs: 5000 },
  network: false,
});

let queue = Promise.resolve();
parentPort.on('message', (m) => {
  if (m.type === 'fetched') {
    fetches.get(m.reqId)?.(m);
    fetches.delete(m.reqId);
    return;
  }
  if (m.type !== 'run') return;
  queue = queue.then(async () => {
    const started = performance.now();
    const result = await run(m.job);
    result.durationMs = performance.now() - started;
    result.recycle = broken;
    parentPort.postMessage({ type: 'done', jobId: m.job.id, result });
  });
});
parentPort.postMessage({ type: 'ready' });
