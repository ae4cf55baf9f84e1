import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';

/**
 * n8n import through `POST /workflows/import`: ten real n8n exports (fixtures/n8n, from n8n's own
 * repository; see SOURCES.md), each imported with a report naming every n8n node; the webhook → Set one
 * runs from its webhook.
 */
const DIR = join(import.meta.dirname, 'fixtures', 'n8n');
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.json'));
const fixture = (f: string) =>
  JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { nodes: { name: string; type: string }[] };

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer({ worker: true });
  owner = await signUp(s);
});
afterAll(() => s?.close());

let imports = 0;
/** Each import under a new name (names are unique per organization). */
const importN8n = (file: string, status = '') => {
  imports += 1;
  return api(
    'POST',
    `/workflows/import?name=${encodeURIComponent(`${file} ${imports}`)}${status}`,
    fixture(file),
  );
};
const api = (method: string, path: string, body?: unknown) =>
  call(s, method, `/api/v1${path}`, { token: owner.token, ...(body === undefined ? {} : { body }) });

type Entry = { node: string; type: string; status: string; to: string | null; notes: string[] };
const byNode = (report: Entry[]) => new Map(report.map((e) => [e.node, e]));

describe(`n8n import on ${testBackend()}`, () => {
  it('has the ten fixtures', () => {
    expect(FIXTURES).toHaveLength(10);
  });

  it.each(FIXTURES)('%s imports with a report entry for every n8n node', async (file) => {
    const doc = fixture(file);
    const r = await importN8n(file);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.importedFrom).toBe('n8n');
    const report = r.body.report as Entry[];
    expect(report.map((e) => e.node).sort()).toEqual(doc.nodes.map((n) => n.name).sort());
    for (const e of report) {
      expect(['converted', 'approximated', 'dropped']).toContain(e.status);
      if (e.status !== 'converted') expect(e.notes.length).toBeGreaterThan(0);
    }
    // the stored definition is valid: it reads back as the current version
    const wf = await api('GET', `/workflows/${r.body.id}`);
    expect(wf.status).toBe(200);
    expect(wf.body.definition.nodes.length).toBeGreaterThan(0);
  });

  it('converts IF conditions, code (dropped), the AI agent with its chat model and tool, and a schedule', async () => {
    const ifs = await importN8n('if-v1-number.json');
    const ifReport = byNode(ifs.body.report);
    expect(ifReport.get('Code')).toMatchObject({ status: 'dropped', to: 'Code' });
    expect(ifReport.get('Code')!.notes[0]).toMatch(/JavaScript is not run/);
    expect(ifReport.get('IF Smaller')).toMatchObject({ status: 'converted', to: 'IF_Smaller' });
    const smaller = ifs.body.definition.connections.filter((c: { from: string }) => c.from === 'IF_Smaller');
    expect(smaller.map((c: { condition: string }) => c.condition)).toEqual([
      'nodes.IF_Smaller.output.value < 2',
      '!(nodes.IF_Smaller.output.value < 2)',
    ]);

    const agent = await importN8n('ai-agent-tool.json');
    const agentReport = byNode(agent.body.report);
    expect(agentReport.get('OpenAI Chat Model')).toMatchObject({ status: 'converted', to: 'agent:AI_Agent' });
    expect(agentReport.get('Calculator')).toMatchObject({ status: 'dropped', to: null });
    expect(agentReport.get('AI Agent')).toMatchObject({ status: 'approximated', to: 'AI_Agent' });
    expect(agent.body.definition.nodes).toEqual([
      expect.objectContaining({
        id: 'AI_Agent',
        type: 'agent',
        agent: { model: 'openai:gpt-4o-mini', prompt: 'What is 5 times 5?' },
      }),
    ]);
    const pirate = await importN8n('ai-agent-openai.json');
    expect(pirate.body.definition.nodes[0].agent).toEqual({
      model: 'openai:gpt-4o-mini',
      prompt: 'Hello!',
      system: 'You are a pirate. Always respond in pirate speak.',
    });
    expect(byNode(pirate.body.report).get('AI Agent')!.status).toBe('converted');

    const schedule = await importN8n('schedule-set.json');
    expect(schedule.body.triggers).toHaveLength(1);
    expect(schedule.body.triggers[0]).toMatchObject({
      type: 'schedule',
      schedule: { cron: '*/5 * * * *', timezone: 'UTC' },
    });
    expect(byNode(schedule.body.report).get('Schedule Trigger')).toMatchObject({
      status: 'converted',
      to: 'trigger:schedule',
    });

    const sw = await importN8n('switch-v2-rules.json');
    const conds = sw.body.definition.connections
      .filter((c: { from: string }) => c.from === 'Switch')
      .map((c: { condition: string }) => c.condition);
    expect(conds[0]).toBe("nodes.Switch.output.output == 'first'");
    expect(conds[2]).toMatch(/^\(nodes\.Switch\.output\.output == 'third'\) \|\| !\(/);

    const wait = await importN8n('wait-if-set.json');
    expect(wait.body.definition.nodes.find((n: { type: string }) => n.type === 'delay')).toMatchObject({
      durationMs: 2000,
    });

    const http = await importN8n('http-request-get.json');
    expect(http.body.definition.nodes[0]).toMatchObject({ id: 'start', tool: 'json_transform' });
    expect(http.body.definition.nodes[1]).toMatchObject({
      type: 'tool',
      tool: 'http_request',
      config: { method: 'GET', url: 'https://dummyjson.com/todos/1' },
    });
  });

  it('runs the webhook → Set workflow from its webhook', async () => {
    const r = await importN8n('webhook-set.json', '&status=active');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(byNode(r.body.report).get('Respond')).toMatchObject({ status: 'converted', to: 'Respond' });
    expect(r.body.definition.nodes).toEqual([
      expect.objectContaining({ id: 'Respond', type: 'output', value: { echo: '{{input.body}}' } }),
    ]);
    const hook = r.body.triggers[0];
    expect(hook).toMatchObject({ type: 'webhook', webhook: { auth: 'bearer', mode: 'sync' } });
    expect(hook.webhook.secret).toMatch(/^\S{16,}$/);
    const fired = await s.request(hook.webhook.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hook.webhook.secret}` },
      body: JSON.stringify({ order: 42, items: ['a', 'b'] }),
    });
    const out = (await fired.json()) as { runId: string; status: string; output?: unknown };
    expect(fired.status, JSON.stringify(out)).toBe(200);
    expect(out.status).toBe('completed');
    expect(out.output).toEqual({ echo: { order: 42, items: ['a', 'b'] } });
  });

  it('refuses an n8n document it cannot read, naming what is wrong', async () => {
    const r = await api('POST', '/workflows/import', {
      nodes: [{ type: 'n8n-nodes-base.set', parameters: {} }],
      connections: {},
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/nodes\[0\]\.name is missing/);
  });
});
