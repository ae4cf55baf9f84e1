import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PLANS } from '@aiops/core';
import { outboundPolicy } from '@aiops/providers';
import { afterAll, describe, expect, it } from 'vitest';
import { runCodeSource } from './run-code.ts';
import { type CodeRunRequest, CodeSandbox } from './sandbox.ts';

const sandbox = new CodeSandbox(2);
afterAll(() => sandbox.close());

const limits = { memoryMb: 32, cpuMs: 1_000, wallMs: 10_000, network: false };
const run = (code: string, extra: Partial<CodeRunRequest> = {}) =>
  sandbox.run({ code, language: 'javascript', input: {}, nodes: {}, variables: {}, limits, ...extra });

describe('code sandbox (QuickJS in worker threads)', () => {
  it('runs JavaScript and TypeScript with input, nodes and variables, and captures console lines', async () => {
    const js = await run(
      'console.log("sum", input.a + input.b); console.warn({ n: nodes.x.output }); return { sum: input.a + input.b, v: variables.k }',
      {
        input: { a: 2, b: 3 },
        nodes: { x: { output: 7 } },
        variables: { k: 'v' },
      },
    );
    expect(js).toMatchObject({ ok: true, output: { sum: 5, v: 'v' } });
    expect(js.logs).toEqual([
      { level: 'info', message: 'sum 5' },
      { level: 'warning', message: '{"n":7}' },
    ]);
    expect(js.memoryBytes).toBeGreaterThan(0);
    expect(js.cpuMs).toBeGreaterThanOrEqual(0);
    const ts = await run(
      'interface P { a: number }\nconst p: P = input as P;\nconst twice = (n: number): number => n * 2;\nreturn twice(p.a);',
      {
        language: 'typescript',
        input: { a: 21 },
      },
    );
    expect(ts).toMatchObject({ ok: true, output: 42 });
  });

  it('has JSON, dates and crypto-safe randomness', async () => {
    const r = await run(
      'const b = crypto.getRandomValues(new Uint8Array(16)); return { uuid: crypto.randomUUID(), bytes: b.length, nonzero: b.some((x) => x !== 0), iso: new Date(Date.UTC(2020, 0, 2)).toISOString(), json: JSON.parse(JSON.stringify({ a: [1] })) }',
    );
    expect(r.ok).toBe(true);
    const out = r.output as Record<string, unknown>;
    expect(out.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(out).toMatchObject({
      bytes: 16,
      nonzero: true,
      iso: '2020-01-02T00:00:00.000Z',
      json: { a: [1] },
    });
  });

  it('escape attempts fail: process, require, modules, the Function constructor, host functions, files, environment, timers', async () => {
    const probe = await run(`
      const F = (function () {}).constructor;
      const viaCtor = F('return typeof process + "/" + typeof require + "/" + typeof globalThis.process')();
      const viaThis = this === undefined ? 'strict' : typeof this;
      const g = F('return this')();
      return {
        process: typeof process, require: typeof require, module: typeof module, Buffer: typeof Buffer,
        viaCtor, viaThis, globalKeys: Object.getOwnPropertyNames(g).filter((k) => /^(process|require|std|os|__aiops)/.test(k)),
        setTimeout: typeof setTimeout, setInterval: typeof setInterval, fetch: typeof fetch, std: typeof std, os: typeof os,
      };`);
    expect(probe).toMatchObject({
      ok: true,
      output: {
        process: 'undefined',
        require: 'undefined',
        module: 'undefined',
        Buffer: 'undefined',
        viaCtor: 'undefined/undefined/undefined',
        globalKeys: [],
        setTimeout: 'undefined',
        setInterval: 'undefined',
        fetch: 'undefined',
        std: 'undefined',
        os: 'undefined',
      },
    });
    const dynamicImport = await run(
      'const fs = await import("node:fs"); return fs.readFileSync("/etc/passwd", "utf8")',
    );
    expect(dynamicImport.ok).toBe(false);
    expect(dynamicImport.error?.code).toBe('code_error');
    const staticImport = await run('import fs from "fs"; return 1');
    expect(staticImport.ok).toBe(false);
    expect(staticImport.error?.code).toBe('code_error');
    const env = await run('return typeof process === "undefined" ? null : process.env');
    expect(env).toMatchObject({ ok: true, output: null });
    // A promise that waits for a timer the sandbox does not have never settles: the step ends, nothing runs later.
    const late = await run(
      'await new Promise((resolve) => (globalThis.setTimeout ?? (() => {}))(resolve, 10)); return 1',
    );
    expect(late.error?.code).toBe('code_unresolved');
  });

  it('prototype pollution stays in its run: neither the host nor the next run sees it', async () => {
    const polluted = await run(
      'Object.prototype.polluted = "yes"; Array.prototype.push = () => 0; JSON.parse = () => "hijacked"; return ({}).polluted',
    );
    expect(polluted).toMatchObject({ ok: true, output: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
    // both threads run a probe (two at once), so whichever thread ran the pollution is checked
    const next = await Promise.all([
      run('const a = []; a.push(1); return [({}).polluted ?? null, a.length, JSON.parse("[2]")]'),
      run('const a = []; a.push(1); return [({}).polluted ?? null, a.length, JSON.parse("[2]")]'),
    ]);
    for (const r of next) expect(r).toMatchObject({ ok: true, output: [null, 1, [2]] });
  });

  it('an infinite loop is stopped at its CPU limit while another organization’s code keeps running', async () => {
    const started = Date.now();
    const loop = run('for (;;) {}', { limits: { ...limits, cpuMs: 1_500 } });
    const others: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await run('return input.i * 2', { input: { i } });
      others.push(r.output as number);
    }
    expect(others).toEqual([0, 2, 4, 6, 8]);
    const stopped = await loop;
    expect(stopped.ok).toBe(false);
    expect(stopped.error).toMatchObject({ code: 'code_timeout', retryable: false });
    expect(stopped.error?.message).toContain('1500 ms of CPU time');
    expect(stopped.cpuMs).toBeGreaterThanOrEqual(1_500);
    expect(Date.now() - started).toBeLessThan(1_500 + 8_000);
    // a detached endless async loop does not outlive the step: it is stopped with it
    const detached = await run('(async () => { for (;;) await null; })(); return 1', {
      limits: { ...limits, cpuMs: 500 },
    });
    expect(detached.error?.code).toBe('code_timeout');
    expect(await run('return "still serving"')).toMatchObject({ ok: true, output: 'still serving' });
  });

  it('a memory bomb is stopped at its memory limit, and the pool keeps serving', async () => {
    const bomb = await run('const keep = []; for (;;) keep.push(new Array(100000).fill(keep.length));');
    expect(bomb.ok).toBe(false);
    expect(bomb.error).toMatchObject({ code: 'code_memory_exceeded', retryable: false });
    expect(bomb.error?.message).toContain('32 MB');

    expect(await run('return [1, 2, 3].map((x) => x * x)')).toMatchObject({ ok: true, output: [1, 4, 9] });
  });

  it("applies each tier's limits: 100 MB fits a professional step, not a starter one", async () => {
    const code =
      'const keep = []; for (let i = 0; i < 100; i++) keep.push(new Float64Array(131072)); return keep.length';
    const starter = PLANS.starter.resources.code;
    const pro = PLANS.professional.resources.code;
    expect(starter.memoryMb).toBeLessThan(100);
    expect(pro.memoryMb).toBeGreaterThan(100);
    const small = await run(code, { limits: starter });
    expect(small.error?.code).toBe('code_memory_exceeded');
    const large = await run(code, { limits: pro });
    expect(large).toMatchObject({ ok: true, output: 100 });
  });

  it('code stuck in a long native call is killed at its wall-clock limit; the thread is replaced', async () => {
    const started = Date.now();
    const stuck = await run(
      'for (let i = 0; i < 200; i++) new Float64Array(4e6).map((_, j) => j % 7).sort(); return 1',
      {
        limits: { memoryMb: 64, cpuMs: 60_000, wallMs: 300, network: false },
      },
    );
    expect(stuck.error).toMatchObject({ code: 'code_timeout', retryable: false });
    expect(Date.now() - started).toBeLessThan(300 + 1_500 + 10_000);
    expect(
      await run('return "after the kill"', {
        limits: { memoryMb: 64, cpuMs: 1_000, wallMs: 5_000, network: false },
      }),
    ).toMatchObject({
      ok: true,
      output: 'after the kill',
    });
  });

  it('a thread that never says it is ready, or stops before it is, is replaced; its job runs on the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiops-sandbox-'));
    const flag = join(dir, 'misbehave');
    const script = join(dir, 'thread.mjs');
    // The first thread started hangs without a word; once its flag is gone, threads start as usual.
    const real = new URL('./sandbox-thread.mjs', import.meta.url).href;
    const wrapper = (how: string) =>
      writeFileSync(
        script,
        `import { existsSync, rmSync } from 'node:fs';
if (existsSync(${JSON.stringify(flag)})) { rmSync(${JSON.stringify(flag)}); ${how} }
else await import(${JSON.stringify(real)});`,
      );
    // 8 s: long enough for a healthy thread to get ready on a loaded machine (with 1.5 s the thread
    // started in place of the hung one was sometimes given up on too, in CI).
    const own = new CodeSandbox(1, { readyTimeoutMs: 8_000, threadScript: pathToFileURL(script) });
    try {
      wrapper('setInterval(() => {}, 60_000);');
      writeFileSync(flag, '');
      const started = Date.now();
      expect(
        await own.run({
          code: 'return 6 * 7',
          language: 'javascript',
          input: {},
          nodes: {},
          variables: {},
          limits,
        }),
      ).toMatchObject({ ok: true, output: 42 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(8_000);
      expect(own.stats()).toMatchObject({ threads: 1, ready: 1, startFailures: 1 });

      // A thread of another memory class that stops (crashes) while starting is started again.
      wrapper('process.exit(3);');
      writeFileSync(flag, '');
      const other = { ...limits, memoryMb: 48 };
      expect(
        await own.run({
          code: 'return "again"',
          language: 'javascript',
          input: {},
          nodes: {},
          variables: {},
          limits: other,
        }),
      ).toMatchObject({ ok: true, output: 'again' });
      expect(own.stats()).toMatchObject({ threads: 2, ready: 2, startFailures: 2 });
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a cancelled step stops its code', async () => {
    const controller = new AbortController();
    const pending = run('for (;;) {}', {
      limits: { ...limits, cpuMs: 60_000, wallMs: 60_000 },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const r = await pending;
    expect(r.error?.code).toBe('cancelled');
    expect(await run('return 1')).toMatchObject({ ok: true, output: 1 });
  });

  it('user errors, syntax errors and unserialisable results are clear and not retryable', async () => {
    const thrown = await run('throw new TypeError("bad input: " + input.x)', { input: { x: 1 } });
    expect(thrown.error).toMatchObject({
      code: 'code_error',
      message: 'TypeError: bad input: 1',
      retryable: false,
    });
    const syntax = await run('return (', { language: 'typescript' });
    expect(syntax.error).toMatchObject({ code: 'code_syntax_error', retryable: false });
    const syntaxJs = await run('return (');
    expect(syntaxJs.error).toMatchObject({ code: 'code_error', retryable: false });
    expect(syntaxJs.error?.message).toMatch(/^SyntaxError/);
    const big = await run('return "x".repeat(5 * 1024 * 1024)', { limits: { ...limits, memoryMb: 64 } });
    expect(big.error?.code).toBe('code_output_too_large');
  });
});

describe('network from code', () => {
  it('is off by default, and when on reaches only allowed hosts through the guarded fetch', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const code = `const r = await fetch("http://localhost:${port}/hello"); return { status: r.status, body: await r.json() };`;
    const base = { sandbox, input: {}, nodes: {}, variables: {} };
    const loopback = outboundPolicy({ allowPrivateNetworks: true, privateCategories: ['loopback'] });
    try {
      const off = await runCodeSource(
        { language: 'javascript', code },
        { ...base, limits: { ...limits, network: true }, policy: async () => loopback },
      );
      expect(off.error).toMatchObject({
        code: 'code_error',
        message: "ReferenceError: 'fetch' is not defined",
      });

      const on = await runCodeSource(
        { language: 'javascript', code, network: { allowedHosts: ['localhost'] } },
        { ...base, limits: { ...limits, network: true }, policy: async () => loopback },
      );
      expect(on).toMatchObject({ ok: true, output: { status: 200, body: { path: '/hello' } } });

      const otherHost = await runCodeSource(
        { language: 'javascript', code, network: { allowedHosts: ['api.example.com'] } },
        { ...base, limits: { ...limits, network: true }, policy: async () => loopback },
      );
      expect(otherHost.error?.message).toContain(
        "localhost is not in this step's allowed hosts (api.example.com)",
      );

      // the organization's outbound policy still holds: loopback is refused without the operator's allowance
      const guarded = await runCodeSource(
        { language: 'javascript', code, network: { allowedHosts: ['localhost'] } },
        {
          ...base,
          limits: { ...limits, network: true },
          policy: async () => outboundPolicy({ allowPrivateNetworks: false }),
        },
      );
      expect(guarded.ok).toBe(false);
      expect(guarded.error?.code).toBe('code_error');

      await expect(
        runCodeSource(
          { language: 'javascript', code, network: { allowedHosts: ['localhost'] } },
          { ...base, limits: PLANS.starter.resources.code, policy: async () => loopback },
        ),
      ).rejects.toMatchObject({ code: 'code_network_not_allowed', retryable: false });
    } finally {
      server.close();
    }
  });
});
