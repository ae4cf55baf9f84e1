import { AppError } from '@aiops/core';
import { describe, expect, it } from 'vitest';
import { JSON_TRANSFORM_MAX_TIMEOUT_MS, runJsonTransform } from './json-transform.ts';
import { createTool, isToolKind, TOOL_KINDS } from './registry.ts';

const signal = () => new AbortController().signal;
const orders = {
  orders: [
    { id: 'A-1', status: 'open', qty: 2, price: 4.5 },
    { id: 'A-2', status: 'closed', qty: 1, price: 10 },
    { id: 'A-3', status: 'open', qty: 3, price: 1.25 },
  ],
};

describe('json_transform', () => {
  it('reshapes the data with a JSONata expression', async () => {
    const tool = createTool('json_transform', {
      expression: 'orders[status = "open"].{ "id": id, "total": qty * price }',
    });
    expect(tool.name).toBe('json_transform');
    expect(await tool.execute({ data: orders }, signal())).toEqual([
      { id: 'A-1', total: 9 },
      { id: 'A-3', total: 3.75 },
    ]);
    expect(await runJsonTransform({ expression: '$sum(orders.qty)' }, orders)).toBe(6);
    expect(await runJsonTransform({ expression: 'missing.path' }, orders)).toBeNull();
  });

  it('refuses an expression that does not parse when the tool is created', () => {
    expect(() => createTool('json_transform', { expression: 'orders[' })).toThrow(AppError);
  });

  it('stops a runaway expression by time or depth, with a non-retryable error', async () => {
    const loop = '($f := function($n) { 1 + $f($n + 1) }; $f(0))';
    const deep = await runJsonTransform({ expression: loop, maxDepth: 50 }, {}).catch((e: unknown) => e);
    expect((deep as AppError).code).toBe('tool_invalid_input');
    expect((deep as AppError).message).toMatch(/deeper than 50 nested/);
    const slow = '$sum([1..2000000].($ * 2))';
    const timed = await runJsonTransform({ expression: slow, timeoutMs: 20 }, {}).catch((e: unknown) => e);
    expect((timed as AppError).message).toMatch(/longer than 20 ms/);
  });

  it('keeps its time box short whatever the config asks (the evaluation holds the event loop)', async () => {
    // CPU time, the work the evaluation did: on a machine busy with other processes wall time says little.
    // The range is built in one step, before any time check: 2,000,000 items (about 3 s of mapping
    // uncapped) rather than 10,000,000, with which the process's CPU (building the range, collecting it, and
    // the 250 ms of mapping) once passed the bound below on a loaded CI machine (CI of 2026-12-07, 11:35).
    const started = process.cpuUsage();
    const timed = await runJsonTransform(
      { expression: '$sum([1..2000000].($ * 2))', timeoutMs: 86_400_000 },
      {},
    ).catch((e: unknown) => e);
    expect((timed as AppError).message).toMatch(
      new RegExp(`longer than ${JSON_TRANSFORM_MAX_TIMEOUT_MS} ms`),
    );
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(JSON_TRANSFORM_MAX_TIMEOUT_MS + 750);
  });
});

describe('tool registry', () => {
  it('knows its tool kinds and refuses others', () => {
    expect(TOOL_KINDS).toEqual(['http_request', 'json_transform']);
    expect(isToolKind('http_request')).toBe(true);
    expect(isToolKind('eval')).toBe(false);
    expect(() => createTool('eval' as 'http_request', { url: 'x' })).toThrow(/unknown tool/);
    const http = createTool('http_request', {
      name: 'get_order',
      url: 'https://api.example.com/orders/{{id}}',
    });
    expect(http.name).toBe('get_order');
    expect(http.description).toContain('https://api.example.com/orders/{{id}}');
  });

  it('runs regex literals on the linear-time engine: ^(a+)+$ against "aaaa…!" answers at once', async () => {
    const s = `${'a'.repeat(30_000)}!`;
    const t = performance.now();
    expect(await runJsonTransform({ expression: '$contains(s, /^(a+)+$/)' }, { s })).toBe(false);
    expect(performance.now() - t).toBeLessThan(1_000);
    expect(await runJsonTransform({ expression: '$contains(s, /^(a+)+$/)' }, { s: 'aaa' })).toBe(true);
    expect(await runJsonTransform({ expression: '$replace(s, /(\\d+)/, "#$1")' }, { s: 'a1b22' })).toBe(
      'a#1b#22',
    );
    expect(await runJsonTransform({ expression: '$split(s, /[,;] */)' }, { s: 'x, y;z' })).toEqual([
      'x',
      'y',
      'z',
    ]);
    expect(await runJsonTransform({ expression: '$match(s, /B(\\w)/i).groups' }, { s: 'abc bd' })).toEqual([
      'c',
      'd',
    ]);
  });
});
