import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  type SignedUp,
  signUp,
  startTestServer,
  type TestServer,
} from '../../test-support.ts';

let s: TestServer;
let owner: SignedUp;
beforeAll(async () => {
  s = await startTestServer();
  owner = await signUp(s);
});
afterAll(() => s?.close());

const echo = (id: string, prompt: string) => ({
  id,
  type: 'agent',
  agent: { model: 'simulator:echo', prompt },
});
const def = (name: string, prompt = 'Hello {{input.name}}') => ({
  name,
  input: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  nodes: [echo('greet', prompt), { id: 'out', type: 'output', value: { text: '{{nodes.greet.output}}' } }],
  connections: [{ from: 'greet', to: 'out' }],
});

describe(`workflows API on ${testBackend()}`, () => {
  it('creates, reads, versions on every save, lists versions, rolls back, deletes', async () => {
    const created = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: { definition: def('greeter'), status: 'active' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'greeter', version: 1, status: 'active' });
    const id = created.body.id as string;

    const v2 = await call(s, 'PATCH', `/api/v1/workflows/${id}`, {
      token: owner.token,
      body: { definition: def('greeter', 'Hi {{input.name}}'), changeNote: 'friendlier' },
    });
    expect(v2.status).toBe(200);
    expect(v2.body.version).toBe(2);
    const statusOnly = await call(s, 'PATCH', `/api/v1/workflows/${id}`, {
      token: owner.token,
      body: { status: 'paused' },
    });
    expect(statusOnly.body).toMatchObject({ version: 2, status: 'paused' });

    const versions = await call(s, 'GET', `/api/v1/workflows/${id}/versions`, { token: owner.token });
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body.data[0].changeNote).toBe('friendlier');
    const one = await call(s, 'GET', `/api/v1/workflows/${id}/versions/1`, { token: owner.token });
    expect(one.body.definition.nodes[0].agent.prompt).toBe('Hello {{input.name}}');

    const rolled = await call(s, 'POST', `/api/v1/workflows/${id}/rollback`, {
      token: owner.token,
      body: { version: 1 },
    });
    expect(rolled.status).toBe(200);
    expect(rolled.body.version).toBe(3);
    expect(rolled.body.definition.nodes[0].agent.prompt).toBe('Hello {{input.name}}');
    expect((await call(s, 'GET', `/api/v1/workflows/${id}/versions/9`, { token: owner.token })).status).toBe(
      404,
    );

    const list = await call(s, 'GET', '/api/v1/workflows?q=greet', { token: owner.token });
    expect(list.body.data.map((w: { id: string }) => w.id)).toContain(id);
    expect(list.body.data[0].definition).toBeUndefined();

    expect((await call(s, 'DELETE', `/api/v1/workflows/${id}`, { token: owner.token })).status).toBe(200);
    expect((await call(s, 'GET', `/api/v1/workflows/${id}`, { token: owner.token })).status).toBe(404);

    const audit = await call(s, 'GET', `/api/v1/audit-logs?entityType=workflow&entityId=${id}`, {
      token: owner.token,
    });
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual([
      'created',
      'deleted',
      'rolled_back',
      'updated',
      'version_created',
    ]);
  });

  it('an invalid definition answers 400 with every issue by node id and stores nothing', async () => {
    const bad = {
      name: 'broken',
      nodes: [
        echo('a', '{{nodes.b.output}}'),
        echo('b', 'x'),
        { id: 'c', type: 'output', value: '{{input.x' },
      ],
      connections: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c', condition: 'nodes.b.output ==' },
      ],
    };
    const r = await call(s, 'POST', '/api/v1/workflows', { token: owner.token, body: { definition: bad } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_definition');
    const issues = r.body.error.details.issues as { nodeId?: string; path: string }[];
    expect(issues.map((i) => [i.nodeId, i.path])).toEqual(
      expect.arrayContaining([
        ['a', 'nodes.a.agent.prompt'],
        ['c', 'nodes.c.value'],
        ['b', 'connections[1].condition'],
      ]),
    );
    const list = await call(s, 'GET', '/api/v1/workflows?q=broken', { token: owner.token });
    expect(list.body.data).toEqual([]);

    const v = await call(s, 'POST', '/api/v1/workflows/validate', {
      token: owner.token,
      body: { definition: bad },
    });
    expect(v.status).toBe(200);
    expect(v.body.valid).toBe(false);
    expect(v.body.issues.length).toBe(issues.length);
    const ok = await call(s, 'POST', '/api/v1/workflows/validate', {
      token: owner.token,
      body: { definition: def('fine') },
    });
    expect(ok.body).toEqual({ valid: true, issues: [] });
  });

  it('validate answers valid: false for an unknown provider and an empty prompt, listing every problem', async () => {
    const v = await call(s, 'POST', '/api/v1/workflows/validate', {
      token: owner.token,
      body: {
        definition: {
          name: 'many problems',
          nodes: [
            { id: 'a', type: 'agent', agent: { model: 'nosuchprovider:x', prompt: '' } },
            { id: 'b', type: 'teleport' },
            echo('c', 'Hi {{input.x'),
            echo('c', 'again'),
          ],
          connections: [
            { from: 'a', to: 'b' },
            { from: 'a', to: 'ghost' },
            { from: 'a', to: 'c', condition: 'nodes.a.output ==' },
          ],
        },
      },
    });
    expect(v.status).toBe(200);
    expect(v.body.valid).toBe(false);
    expect(v.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'connections[1].to',
      'connections[2].condition',
      'nodes.a.agent.model',
      'nodes.a.agent.prompt',
      'nodes.b.type',
      'nodes.c.agent.prompt',
      'nodes.c.id',
    ]);
    const model = v.body.issues.find((i: { path: string }) => i.path === 'nodes.a.agent.model');
    expect(model).toMatchObject({ nodeId: 'a', message: expect.stringMatching(/use one of simulator, /) });
  });

  it('PATCH {name} renames without the definition: a new version with the same nodes', async () => {
    const created = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: { definition: def('before-rename') },
    });
    await call(s, 'POST', '/api/v1/workflows', { token: owner.token, body: { definition: def('taken') } });
    const r = await call(s, 'PATCH', `/api/v1/workflows/${created.body.id}`, {
      token: owner.token,
      body: { name: 'after-rename' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'after-rename', version: 2 });
    expect(r.body.definition).toEqual({ ...created.body.definition, name: 'after-rename' });
    const versions = await call(s, 'GET', `/api/v1/workflows/${created.body.id}/versions`, {
      token: owner.token,
    });
    expect(versions.body.data.find((v: { version: number }) => v.version === 2)).toMatchObject({
      changeNote: 'renamed to after-rename',
    });
    const clash = await call(s, 'PATCH', `/api/v1/workflows/${created.body.id}`, {
      token: owner.token,
      body: { name: 'taken' },
    });
    expect(clash.status).toBe(409);
    const empty = await call(s, 'PATCH', `/api/v1/workflows/${created.body.id}`, {
      token: owner.token,
      body: { name: '  ' },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['body.name']);
  });

  it('a duplicate name answers 409', async () => {
    await call(s, 'POST', '/api/v1/workflows', { token: owner.token, body: { definition: def('twin') } });
    const again = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: { definition: def('twin') },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already exists/);
  });

  it('imports our format as YAML, seed 000 shape, and a seed 003 task list', async () => {
    const yaml = `name: from-yaml
nodes:
  - id: a
    type: agent
    agent: { model: "simulator:echo", prompt: "hi" }
`;
    const y = await s.request('/api/v1/workflows/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/yaml' },
      body: yaml,
    });
    expect(y.status).toBe(201);
    expect(await y.json()).toMatchObject({ name: 'from-yaml', importedFrom: 'definition', version: 1 });

    const seed000 = {
      name: 'seed-000',
      agents: [
        {
          id: 'a1b2',
          name: 'Classifier',
          type: 'specialist',
          config: {
            model_settings: { model: 'gpt-4', temperature: 0.2 },
            prompt_template: 'Classify {{input.text}}',
          },
          position: { x: 1, y: 2 },
        },
        {
          id: 'c3d4',
          name: 'Writer',
          type: 'specialist',
          config: {
            model_settings: { model: 'claude-3-5-sonnet' },
            prompt_template: 'Write about {{nodes.Classifier.output}}',
          },
        },
      ],
      connections: [
        { from_agent_id: 'a1b2', to_agent_id: 'c3d4', condition: "nodes.Classifier.output != 'spam'" },
      ],
      variables: { tone: 'kind' },
    };
    const a = await call(s, 'POST', '/api/v1/workflows/import', { token: owner.token, body: seed000 });
    expect(a.status).toBe(201);
    expect(a.body.importedFrom).toBe('seed000');
    expect(
      a.body.definition.nodes.map((n: { id: string; agent: { model: string } }) => [n.id, n.agent.model]),
    ).toEqual([
      ['Classifier', 'openai:gpt-4'],
      ['Writer', 'anthropic:claude-3-5-sonnet'],
    ]);
    expect(a.body.definition.connections).toEqual([
      { from: 'Classifier', to: 'Writer', condition: "nodes.Classifier.output != 'spam'" },
    ]);

    const tasks = [
      {
        agent_id: 'sales_leadgen_agent_001',
        task_details: { task_description: 'Find leads', context: { region: 'US' } },
      },
    ];
    const missing = await call(s, 'POST', '/api/v1/workflows/import', { token: owner.token, body: tasks });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/sales_leadgen_agent_001/);
    await call(s, 'POST', '/api/v1/agents', {
      token: owner.token,
      body: {
        name: 'Lead Generation Agent',
        model: 'simulator:echo',
        promptTemplate: '{{vars.task}}',
        metadata: { catalogId: 'sales_leadgen_agent_001' },
      },
    });
    const t = await call(s, 'POST', '/api/v1/workflows/import?name=leads', {
      token: owner.token,
      body: [
        ...tasks,
        { agent_id: 'Lead Generation Agent', task_details: { task_description: 'Qualify them' } },
      ],
    });
    expect(t.status).toBe(201);
    expect(t.body).toMatchObject({ name: 'leads', importedFrom: 'tasklist' });
    expect(t.body.definition.nodes).toHaveLength(2);
    expect(t.body.definition.connections).toHaveLength(1);

    const garbage = await s.request('/api/v1/workflows/import', {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/yaml' },
      body: 'name: [unclosed',
    });
    expect(garbage.status).toBe(400);
  });

  it('viewers read but cannot change workflows; another organization sees 404', async () => {
    const created = await call(s, 'POST', '/api/v1/workflows', {
      token: owner.token,
      body: { definition: def('guarded') },
    });
    const viewer = await addMember(s, owner, 'viewer');
    expect(
      (await call(s, 'GET', `/api/v1/workflows/${created.body.id}`, { token: viewer.token })).status,
    ).toBe(200);
    const denied = await call(s, 'PATCH', `/api/v1/workflows/${created.body.id}`, {
      token: viewer.token,
      body: { status: 'active' },
    });
    expect(denied.status).toBe(403);
    const other = await signUp(s);
    for (const [m, p] of [
      ['GET', `/api/v1/workflows/${created.body.id}`],
      ['DELETE', `/api/v1/workflows/${created.body.id}`],
      ['GET', `/api/v1/workflows/${created.body.id}/versions`],
      ['POST', `/api/v1/workflows/${created.body.id}/runs`],
    ] as const) {
      const r = await call(s, m, p, {
        token: other.token,
        ...(m === 'POST' ? { body: { input: { name: 'x' } } } : {}),
      });
      expect(r.status, `${m} ${p}`).toBe(404);
    }
  });
});
