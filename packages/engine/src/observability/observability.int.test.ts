import { createServer, type IncomingHttpHeaders } from 'node:http';
import { queryRows, type Tx } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from '../test-support.ts';
import { runSpanId, stepSpanId, traceIdOfRun } from './ids.ts';
import { runLogLines } from './lifecycle-lines.ts';
import { runLogs, runTrace, type TraceSpan } from './read.ts';

let h: EngineHarness;
beforeAll(async () => {
  h = await engineHarness();
  await h.db.system((tx) =>
    tx.execute(
      sql`UPDATE organizations SET settings = settings || '{"allowPrivateNetworks": true}'::jsonb WHERE id = ${h.orgId}`,
    ),
  );
});
afterAll(() => h?.close());

const tenant = <T>(fn: (tx: Tx) => Promise<T>) => h.db.withTenant(h.orgId, fn);

const flat = (s: TraceSpan): TraceSpan[] => [s, ...s.children.flatMap(flat)];

describe(`execution logs and spans on ${testBackend()}`, () => {
  it('every kind of step writes its lines and spans: agent (model call), tool (with traceparent out), output, retry, failure', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const { run } = await h.run({
        name: 'observed',
        nodes: [
          {
            id: 'ask',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'hello', simulate: { failTimes: 1 } },
            retry: { maxAttempts: 3, initialDelayMs: 1 },
          },
          { id: 'get', type: 'tool', tool: 'http_request', config: { url: `http://127.0.0.1:${port}/x` } },
          { id: 'out', type: 'output', value: { got: '{{nodes.ask.output}}' } },
        ],
        connections: [
          { from: 'ask', to: 'get' },
          { from: 'get', to: 'out' },
        ],
      });
      expect(run.status).toBe('completed');
      const traceId = traceIdOfRun(run.id);
      const trace = await tenant(async (tx) => runTrace(tx, run.id));
      expect(trace.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(trace.root.spanId).toBe(runSpanId(run.id));
      const all = flat(trace.root);
      for (const s of all) {
        expect(s.traceId).toBe(traceId);
        expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      }
      const steps = trace.root.children;
      expect(steps.map((s) => [s.nodeId, s.attempt, s.status])).toEqual([
        ['ask', 1, 'error'],
        ['ask', 2, 'ok'],
        ['get', 1, 'ok'],
        ['out', 1, 'ok'],
      ]);
      const [, ask2, get] = steps;
      const model = ask2!.children[0]!;
      expect(model).toMatchObject({ kind: 'model', name: 'chat simulator:echo', status: 'ok' });
      expect(model.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'simulator',
        'gen_ai.request.model': 'simulator:echo',
      });
      expect(model.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(model.inputTokens).toBe(model.attributes['gen_ai.usage.input_tokens']);
      expect(model.input).toMatchObject({ prompt: 'hello' });
      expect(ask2!.input).toMatchObject({ prompt: 'hello' });
      expect(steps[0]!.children[0]).toMatchObject({ kind: 'model', status: 'error' });
      const tool = get!.children[0]!;
      expect(tool).toMatchObject({ kind: 'tool', name: 'execute_tool http_request', status: 'ok' });
      expect(seen.at(-1)!.traceparent).toBe(`00-${traceId}-${tool.spanId}-01`);
      expect(get!.spanId).toBe(stepSpanId(await stepIdOf(run.id, 'get'), 1));

      const { logs } = await tenant(async (tx) => runLogs(tx, run.id));
      const messages = logs.map((l) => `${l.level} ${l.nodeId} ${l.message}`);
      expect(messages.some((m) => /^warning ask Step agent ask failed, retrying/.test(m))).toBe(true);
      expect(messages.some((m) => /^error ask Model call simulator:echo failed/.test(m))).toBe(true);
      expect(
        messages.some((m) =>
          /^info ask Step agent ask completed in \d+ ms: simulator:echo, \d+ in and \d+ out tokens, \$/.test(
            m,
          ),
        ),
      ).toBe(true);
      expect(messages.some((m) => /^info get Tool http_request called/.test(m))).toBe(true);
      expect(messages.filter((m) => / started \(attempt/.test(m))).toHaveLength(4);
      expect(messages.filter((m) => / completed in /.test(m))).toHaveLength(3);
      for (const l of logs) expect(l.traceId).toBe(traceId);
      // The lifecycle lines are derived from the attempt rows: the attempt's span, the same ids on every
      // read, the retry's delay in the context.
      const retry = logs.find((l) => l.message.startsWith('Step agent ask failed, retrying in'))!;
      expect(retry).toMatchObject({ level: 'warning', attempt: 1, spanId: steps[0]!.spanId });
      expect(retry.context).toMatchObject({ retryDelayMs: expect.any(Number), code: expect.any(String) });
      const again = await tenant(async (tx) => runLogs(tx, run.id));
      expect(again.logs.map((l) => l.id)).toEqual(logs.map((l) => l.id));

      const failed = await h.run({
        name: 'fails',
        nodes: [
          {
            id: 'bad',
            type: 'agent',
            agent: { model: 'simulator:echo', prompt: 'x', simulate: { failTimes: 5, failWith: 'fatal' } },
          },
        ],
      });
      expect(failed.run.status).toBe('failed');
      const errs = await tenant(async (tx) => runLogs(tx, failed.run.id, { levels: ['error'] }));
      expect(errs.logs.map((l) => l.message).join('\n')).toMatch(/Step agent bad failed/);
    } finally {
      server.close();
    }
  });

  it('pages with a cursor, filters by level and step, and searches the message', async () => {
    const nodes: Record<string, unknown>[] = Array.from({ length: 5 }, (_, i) => ({
      id: `n${i}`,
      type: 'tool',
      tool: 'json_transform',
      config: { expression: 'v' },
      input: { data: { v: i } },
    }));
    nodes.push({ id: 'n5', type: 'output', value: 5 });
    const connections = nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id }));
    const { run } = await h.run({ name: 'many', nodes, connections });
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await tenant(async (tx) =>
        runLogs(tx, run.id, { limit: 5, ...(cursor ? { cursor } : {}) }),
      );
      pages.push(page.logs.map((l) => l.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const ids = pages.flat();
    const all = await tenant(async (tx) => runLogs(tx, run.id, { limit: 500 }));
    expect(all.logs).toHaveLength(5 * 3 + 2);
    expect(ids).toEqual(all.logs.map((l) => l.id));
    expect(pages[0]).toHaveLength(5);
    const n3 = await tenant(async (tx) => runLogs(tx, run.id, { stepId: 'n3' }));
    expect(n3.logs.map((l) => l.nodeId)).toEqual(['n3', 'n3', 'n3']);
    const found = await tenant(async (tx) => runLogs(tx, run.id, { q: 'completed n4' }));
    expect(found.logs.map((l) => l.message)).toEqual([expect.stringMatching(/^Step tool n4 completed/)]);
    await expect(tenant(async (tx) => runLogs(tx, run.id, { cursor: 'bm9wZQ' }))).rejects.toMatchObject({
      status: 400,
      code: 'invalid_cursor',
    });
  });

  it('a sub-workflow is a child trace whose run span links to the parent step span', async () => {
    const leaf = await h.createWorkflow({
      name: 'obs-leaf',
      nodes: [{ id: 'x', type: 'agent', agent: { model: 'simulator:echo', prompt: 'leaf' } }],
    });
    const parent = await h.createWorkflow({
      name: 'obs-parent',
      nodes: [{ id: 'call', type: 'subworkflow', workflowId: leaf }],
    });
    const run = await h.wait(await h.start(parent, {}));
    expect(run.status).toBe('completed');
    const [child] = await h.db.system((tx) =>
      queryRows<{ id: string }>(
        tx,
        sql`SELECT id FROM workflow_executions WHERE parent_execution_id = ${run.id}`,
      ),
    );
    const parentTrace = await tenant(async (tx) => runTrace(tx, run.id));
    const childTrace = await tenant(async (tx) => runTrace(tx, child!.id));
    const callSpan = parentTrace.root.children.find((s) => s.attributes['aiops.child_run_id'] === child!.id)!;
    expect(callSpan.kind).toBe('subworkflow');
    expect(callSpan.attributes['aiops.child_trace_id']).toBe(childTrace.traceId);
    expect(childTrace.root.links).toEqual([
      expect.objectContaining({ traceId: parentTrace.traceId, spanId: callSpan.spanId }),
    ]);
    expect(flat(childTrace.root).every((s) => s.traceId === childTrace.traceId)).toBe(true);
    expect(flat(childTrace.root).some((s) => s.kind === 'model')).toBe(true);
  });

  it('another organization sees none of the lines or spans (row-level security)', async () => {
    const { run } = await h.run({ name: 'private', nodes: [{ id: 'o', type: 'output', value: 1 }] });
    const other = '00000000-0000-4000-8000-000000000001';
    const counts = await h.db.withTenant(other, (tx) =>
      queryRows<{ logs: number; spans: number }>(
        tx,
        sql`SELECT (SELECT count(*)::int FROM execution_logs) AS logs, (SELECT count(*)::int FROM spans) AS spans`,
      ),
    );
    expect(counts[0]).toEqual({ logs: 0, spans: 0 });
    // The step's two lines are derived from its attempt row, which row-level security hides the same way.
    const lines = (org: string) =>
      h.db.withTenant(org, (tx) =>
        queryRows<{ message: string }>(
          tx,
          sql`SELECT message FROM ${runLogLines(run.id)} l ORDER BY created_at`,
        ),
      );
    expect((await lines(h.orgId)).map((l) => l.message)).toEqual([
      'Step output o started (attempt 1)',
      expect.stringMatching(/^Step output o completed in \d+ ms$/),
    ]);
    expect(await lines(other)).toEqual([]);
    await expect(
      h.db.withTenant(other, (tx) =>
        tx.execute(
          sql`SELECT aiops_record_observations(${JSON.stringify({ logs: [{ run_id: run.id, level: 'info', message: 'x', at: new Date().toISOString() }] })}::jsonb)`,
        ),
      ),
    ).rejects.toSatisfy(causedBy(/another organization/));
  });

  it('partitions: this month and the next exist; aiops_ensure_partitions is idempotent and refuses other tables', async () => {
    const parts = await h.db.system((tx) =>
      queryRows<{ name: string }>(
        tx,
        sql`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname IN ('execution_logs', 'spans') ORDER BY 1`,
      ),
    );
    const month = (d: Date) => `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    const names = parts.map((p) => p.name);
    for (const t of ['execution_logs', 'spans'])
      for (const m of [month(now), month(next)])
        expect(names).toContain(`${t}_y${m.slice(0, 4)}m${m.slice(4)}`);
    const [again] = await h.db.system((tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT aiops_ensure_partitions('spans', 1) AS n`),
    );
    expect(again!.n).toBe(0);
    const [ahead] = await h.db.system((tx) =>
      queryRows<{ n: number }>(tx, sql`SELECT aiops_ensure_partitions('execution_logs', 3) AS n`),
    );
    expect(ahead!.n).toBe(2);
    await expect(
      h.db.system((tx) => tx.execute(sql`SELECT aiops_ensure_partitions('workflows', 1)`)),
    ).rejects.toSatisfy(causedBy(/not a range-partitioned table/));
  });
});

async function stepIdOf(runId: string, nodeId: string): Promise<string> {
  const [row] = await h.db.system((tx) =>
    queryRows<{ id: string }>(
      tx,
      sql`SELECT id FROM run_steps WHERE run_id = ${runId} AND node_id = ${nodeId}`,
    ),
  );
  return row!.id;
}

/** Drizzle wraps the database's error: its message is the cause's. */
const causedBy = (re: RegExp) => (e: unknown) =>
  re.test(String((e as { cause?: Error }).cause?.message ?? (e as Error).message));
