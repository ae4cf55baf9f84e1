import { queryRows } from '@aiops/db';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
let other: SignedUp;
let workflowId: string;

const api = (method: string, path: string, body?: unknown, token = owner.token) =>
  call(s, method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) });

const dataset = async (name: string) => {
  const r = await api('POST', '/datasets', { name });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id as string;
};

beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
  other = await signUp(s);
  const wf = await api('POST', '/workflows', {
    status: 'active',
    definition: {
      name: 'answers',
      input: { type: 'object', properties: { q: { type: 'string' } } },
      nodes: [{ id: 'out', type: 'output', value: { answer: 'Refund for {{input.q}}' } }],
    },
  });
  expect(wf.status, JSON.stringify(wf.body)).toBe(201);
  workflowId = wf.body.id;
}, 240_000);
afterAll(() => s?.close());

describe(`datasets on ${testBackend()}`, () => {
  it('creates datasets, adds items as versions and lists any past version', async () => {
    const id = await dataset('support questions');
    const got = await api('GET', `/datasets/${id}`);
    expect(got.body).toMatchObject({ name: 'support questions', version: 1, itemCount: 0 });
    const dup = await api('POST', '/datasets', { name: 'support questions' });
    expect(dup.status).toBe(409);
    const empty = await api('POST', '/datasets', { name: '' });
    expect(empty.status).toBe(400);

    const added = await api('POST', `/datasets/${id}/items`, {
      items: [
        { input: { q: 'a' }, expectedOutput: { answer: 'Refund for a' }, metadata: { tag: 'x' } },
        { input: { q: 'b' } },
      ],
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body.version).toBe(2);
    expect(added.body.data.map((i: { input: unknown }) => i.input)).toEqual([{ q: 'a' }, { q: 'b' }]);
    const noInput = await api('POST', `/datasets/${id}/items`, { items: [{ expectedOutput: 1 }] });
    expect(noInput.status).toBe(400);

    const removed = await api('DELETE', `/datasets/${id}/items/${added.body.data[1].id}`);
    expect(removed.status).toBe(200);
    const now = await api('GET', `/datasets/${id}/items`);
    expect(now.body.version).toBe(3);
    expect(now.body.data.map((i: { input: unknown }) => i.input)).toEqual([{ q: 'a' }]);
    const v2 = await api('GET', `/datasets/${id}/items?version=2`);
    expect(v2.body.data).toHaveLength(2);
    const v9 = await api('GET', `/datasets/${id}/items?version=9`);
    expect(v9.status).toBe(400);

    // Another organization sees none of it.
    const foreign = await api('GET', `/datasets/${id}`, undefined, other.token);
    expect(foreign.status).toBe(404);
    const foreignAdd = await api('POST', `/datasets/${id}/items`, { items: [{ input: 1 }] }, other.token);
    expect(foreignAdd.status).toBe(404);

    const audits = await s.database.db.system((tx) =>
      queryRows<{ action: string }>(
        tx,
        sql`SELECT action FROM audit_logs WHERE entity_type = 'dataset' AND entity_id = ${id} ORDER BY created_at`,
      ),
    );
    expect(audits.map((a) => a.action)).toEqual(['created', 'items_added', 'item_removed']);
  });

  it('imports CSV and JSON Lines; bad rows are refused with their line numbers and nothing is added', async () => {
    const id = await dataset('imported');
    const csv = [
      'input,expected_output,lang',
      '"{""q"":""hello""}",Refund for hello,en',
      'plain text question,,fr',
      '"multi',
      'line input",answer,de',
    ].join('\n');
    const ok = await api('POST', `/datasets/${id}/import`, { format: 'csv', content: csv });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.data.map((i: Record<string, unknown>) => [i.input, i.expectedOutput, i.metadata])).toEqual(
      [
        [{ q: 'hello' }, 'Refund for hello', { lang: 'en' }],
        ['plain text question', null, { lang: 'fr' }],
        ['multi\nline input', 'answer', { lang: 'de' }],
      ],
    );

    const badCsv = ['input,expected_output', 'fine,1', ',missing input', 'a,b,c', 'also fine,2'].join('\n');
    const bad = await api('POST', `/datasets/${id}/import`, { format: 'csv', content: badCsv });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('import_rows_invalid');
    expect(bad.body.error.details.rows.map((r: { line: number }) => r.line)).toEqual([3, 4]);
    expect(bad.body.error.message).toMatch(/line 3: .*input.*line 4: expected 2 columns, found 3/);
    const noHeader = await api('POST', `/datasets/${id}/import`, { format: 'csv', content: 'q,a\n1,2' });
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.error.details.rows).toEqual([
      { line: 1, message: 'the header row must have an "input" column' },
    ]);

    const jsonl = [
      '{"input":{"q":"x"},"expected_output":"Refund for x","metadata":{"source":"ticket"}}',
      '',
      '{"input":"y","difficulty":3}',
    ].join('\n');
    const ok2 = await api('POST', `/datasets/${id}/import`, { format: 'jsonl', content: jsonl });
    expect(ok2.status, JSON.stringify(ok2.body)).toBe(201);
    expect(ok2.body.data.map((i: Record<string, unknown>) => [i.input, i.metadata])).toEqual([
      [{ q: 'x' }, { source: 'ticket' }],
      ['y', { difficulty: 3 }],
    ]);
    const badJsonl = [
      '{"input":1}',
      '{not json',
      '{"expected_output":2}',
      '[1]',
      '{"input":2,"metadata":5}',
    ].join('\n');
    const bad2 = await api('POST', `/datasets/${id}/import`, { format: 'jsonl', content: badJsonl });
    expect(bad2.status).toBe(400);
    expect(bad2.body.error.details.rows.map((r: { line: number }) => r.line)).toEqual([2, 3, 4, 5]);
    const items = await api('GET', `/datasets/${id}/items`);
    expect(items.body.data).toHaveLength(5);
    expect(items.body.version).toBe(3);
  });

  it("adds a completed production run's input and output as an item", async () => {
    const id = await dataset('from production');
    const run = await api('POST', `/workflows/${workflowId}/runs`, { input: { q: 'late parcel' }, wait: 20 });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(run.body.status).toBe('completed');
    const item = await api('POST', `/datasets/${id}/items/from-run`, { runId: run.body.id });
    expect(item.status, JSON.stringify(item.body)).toBe(201);
    expect(item.body).toMatchObject({
      input: { q: 'late parcel' },
      expectedOutput: run.body.output,
      sourceRunId: run.body.id,
      metadata: { sourceRunId: run.body.id, workflowId, workflowVersion: 1 },
    });
    expect(item.body.expectedOutput).toEqual({ answer: 'Refund for late parcel' });
    const missing = await api('POST', `/datasets/${id}/items/from-run`, {
      runId: '00000000-0000-4000-8000-000000000000',
    });
    expect(missing.status).toBe(404);
    const foreign = await api('POST', `/datasets/${id}/items/from-run`, { runId: run.body.id }, other.token);
    expect(foreign.status).toBe(404);
  });
});
