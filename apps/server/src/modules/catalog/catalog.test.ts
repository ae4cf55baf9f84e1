import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../../test-support.ts';
import { CatalogError, loadCatalog, STARTER_CATALOG_DIR } from './definitions.ts';

let s: TestServer;
let owner: SignedUp;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aiops-catalog-'));
  s = await startTestServer();
  owner = await signUp(s);
});
afterAll(async () => {
  await s?.close();
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const d = await mkdtemp(join(dir, 'c-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(d, path, '..'), { recursive: true });
    await writeFile(join(d, path), text);
  }
  try {
    await loadCatalog(d);
  } catch (e) {
    expect(e).toBeInstanceOf(CatalogError);
    return (e as CatalogError).problems;
  }
  return [];
}

describe(`agent catalog on ${testBackend()}`, () => {
  it('ships a starter catalog of at least 12 types across categories, in both file shapes', async () => {
    const types = await loadCatalog(STARTER_CATALOG_DIR);
    expect(types.length).toBeGreaterThanOrEqual(12);
    expect(new Set(types.map((t) => t.category)).size).toBeGreaterThanOrEqual(6);
    expect(types.some((t) => t.source.endsWith('.json'))).toBe(true);
    expect(types.some((t) => t.source.endsWith('.yaml'))).toBe(true);
    // seed 003's JSON example, with its provider-less model name qualified
    const lead = types.find((t) => t.id === 'sales_leadgen_agent_001')!;
    expect(lead).toMatchObject({
      category: 'sales',
      model: 'anthropic:claude-3-5-sonnet-20241022',
      capabilities: ['lead_scoring', 'prospect_research'],
      temperature: 0.7,
      maxTokens: 4096,
    });
    // seed 003's YAML example: id from the file name, category from its folder's
    const pricing = types.find((t) => t.id === 'dynamic_pricing_engine')!;
    expect(pricing).toMatchObject({ category: 'hospitality_tourism', name: 'Dynamic Pricing Engine' });
    expect(pricing.requiredParams).toEqual([
      { name: 'property_name', description: 'The hotel or property being priced' },
    ]);
  });

  it('reads seed 003 shapes from a directory of its own', async () => {
    const problems = await problemsOf({
      'a.json': JSON.stringify({
        id: 'sales_leadgen_agent_001',
        name: 'Lead Generation Agent',
        description: 'Identifies and qualifies potential leads using AI',
        category: 'sales',
        version: '1.0.0',
        url: 'http://lead-scoring-agent:5002',
        capabilities: ['lead_scoring', 'prospect_research'],
        system_prompt: 'You are an expert lead generation specialist...',
        model: 'claude-3-5-sonnet-20241022',
        temperature: 0.7,
        max_tokens: 4096,
      }),
      'hospitality_tourism/pricing.yaml':
        'name: Dynamic Pricing Engine\ncategory: hospitality_tourism\nversion: 1.0.0\nmodel: claude-3-5-sonnet-20241022\ntemperature: 0.7\nmax_tokens: 4096\nsystem_prompt: |\n  You are an expert in dynamic pricing...\ncapabilities:\n  - demand_forecasting\n',
    });
    expect(problems).toEqual([]);
  });

  it('refuses invalid files, naming the file and the field', async () => {
    const problems = await problemsOf({
      'bad.json': JSON.stringify({
        id: 'x',
        name: 'X',
        category: 'sales',
        model: 'openai:gpt-4o',
        temperature: 7,
      }),
      'broken.json': '{ "id": ',
      'ops/extra.yaml': 'name: Extra\nmodel: mystery-model\nsystem_prompt: hi\ncolour: blue\n',
      'ops/params.yaml':
        'name: P\nmodel: openai:gpt-4o\nsystem_prompt: hi\nrequired_params:\n  - "not a name"\n',
      'dup.json': JSON.stringify({
        id: 'x',
        name: 'X',
        category: 'sales',
        model: 'openai:gpt-4o',
        system_prompt: 'a',
      }),
      'dup2.json': JSON.stringify({
        id: 'x',
        name: 'X',
        category: 'sales',
        model: 'openai:gpt-4o',
        system_prompt: 'a',
      }),
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.json: field system_prompt: /),
        expect.stringMatching(/^bad\.json: field temperature: /),
        expect.stringMatching(/^broken\.json: not valid JSON/),
        'ops/extra.yaml: field colour: unknown field',
        expect.stringMatching(/^ops\/extra\.yaml: field model: must be provider:model/),
        expect.stringMatching(/^ops\/params\.yaml: field required_params\[0\]/),
        'dup2.json: field id: "x" is already defined in dup.json',
      ]),
    );
  });

  it('a server pointed at a broken catalog does not start, and says which file and field', async () => {
    const bad = await mkdtemp(join(dir, 'srv-'));
    await writeFile(
      join(bad, 'one.json'),
      JSON.stringify({ id: 'one', name: 'One', category: 'x', model: 'openai:gpt-4o' }),
    );
    await expect(startTestServer({ settings: { catalogDir: bad } })).rejects.toThrow(
      /one\.json: field system_prompt/,
    );
  });

  it('lists types, and makes an agent from one: default_config merged, required params demanded', async () => {
    const list = await call(s, 'GET', '/api/v1/agent-types?category=customer_support', {
      token: owner.token,
    });
    expect(list.status).toBe(200);
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain('support_ticket_triage');
    expect(list.body.categories.length).toBeGreaterThanOrEqual(6);

    const missing = await call(s, 'POST', '/api/v1/agent-types/sales_leadgen_agent_001/agents', {
      token: owner.token,
      body: { name: 'Leads', params: { company_name: 'Acme' } },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('product');
    expect(missing.body.error.message).not.toContain('company_name');
    expect(missing.body.error.details.missing).toEqual(['product']);

    const made = await call(s, 'POST', '/api/v1/agent-types/support_ticket_triage/agents', {
      token: owner.token,
      body: {
        name: 'Triage',
        params: { product: 'Acme Cloud' },
        config: { model: 'simulator:echo', maxTokens: 500 },
      },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({
      name: 'Triage',
      model: 'simulator:echo',
      temperature: 0.2, // the type's
      maxTokens: 500, // the caller's
      promptTemplate: 'Ticket:\n{{input.text}}', // the type's default_config
      metadata: { agentType: { id: 'support_ticket_triage' }, params: { product: 'Acme Cloud' } },
    });
    expect(made.body.systemPrompt).toContain('You triage support tickets for Acme Cloud.');
    const tried = await call(s, 'POST', `/api/v1/agents/${made.body.id}/try`, {
      token: owner.token,
      body: { input: { text: 'The dashboard is down' } },
    });
    expect(tried.status).toBe(200);
    expect(tried.body.prompt).toBe('Ticket:\nThe dashboard is down');

    const unknown = await call(s, 'POST', '/api/v1/agent-types/nope/agents', {
      token: owner.token,
      body: { name: 'N' },
    });
    expect(unknown.status).toBe(404);
  });
});
