import { queryRows } from '@aiops/db';
import { createModelPort, InMemoryResponseCache } from '@aiops/providers';
import { testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineHarness, engineHarness } from './test-support.ts';

let h: EngineHarness;
let providerCalls = 0;
beforeAll(async () => {
  h = await engineHarness({ workers: 0 });
  // The simulator priced at $1 per million tokens, through the real provider layer (cache, prices).
  const model = createModelPort({
    resolveIntegration: () => undefined,
    cache: new InMemoryResponseCache(),
    priceOverrides: () => [{ model: 'simulator:*', effectiveFrom: '2020-01-01', input: '1', output: '1' }],
  });
  h.model.call = (req) => {
    providerCalls++;
    return model.call(req);
  };
  await h.addWorker();
});
afterAll(() => h?.close());

const chat = (memory: Record<string, unknown>) => ({
  name: `chat-${Math.random()}`,
  input: { type: 'object', properties: { customer: { type: 'string' }, text: { type: 'string' } } },
  nodes: [
    {
      id: 'reply',
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: '{{input.text}}', memory },
    },
  ],
});

describe(`agent memory on ${testBackend()}`, () => {
  it('short-term: the last N messages of the thread go to the model; threads are separate', async () => {
    const wf = await h.createWorkflow(chat({ threadKey: 'customer-{{input.customer}}', maxMessages: 2 }));
    const say = async (customer: string, text: string) => {
      const id = await h.start(wf, { customer, text });
      const run = await h.wait(id);
      expect(run.status).toBe('completed');
      const attempt = (await h.detail(id)).attempts.at(-1)!;
      return {
        output: String(run.outputData),
        memory: (attempt.input as { memory: { messages: number } }).memory,
      };
    };
    const first = await say('ann', 'my order is 4417');
    expect(first.memory.messages).toBe(0);
    // the echo model answers with every message it was given, then the prompt
    const second = await say('ann', 'where is it');
    expect(second.memory.messages).toBe(2);
    expect(second.output).toMatch(/my order is 4417[\s\S]*where is it/);
    const other = await say('bob', 'hello');
    expect(other.memory.messages).toBe(0);
    expect(other.output).not.toContain('4417');
    // maxMessages: 2 keeps only the newest exchange in the window
    expect((await say('ann', 'thanks')).memory.messages).toBe(2);

    const rows = await h.db.withTenant(h.orgId, (tx) =>
      queryRows<{ thread_key: string; n: number }>(
        tx,
        sql`SELECT thread_key, count(*)::int AS n FROM memory_messages GROUP BY 1 ORDER BY 1`,
      ),
    );
    expect(rows).toEqual([
      { thread_key: 'customer-ann', n: 6 },
      { thread_key: 'customer-bob', n: 2 },
    ]);
  });

  it('semantic: a similar past exchange is recalled into the system prompt', async () => {
    const wf = await h.createWorkflow(
      chat({ semantic: { embeddingModel: 'simulator:embed', topK: 1, namespace: 'kb' } }),
    );
    for (const text of ['the invoice total was 812 dollars', 'the weather in Lyon is sunny']) {
      expect((await h.wait(await h.start(wf, { text }))).status).toBe('completed');
    }
    const id = await h.start(wf, { text: 'what was the invoice total' });
    expect((await h.wait(id)).status).toBe('completed');
    const detail = await h.detail(id);
    const attempt = detail.attempts.find((a) => a.nodeId === 'reply')!;
    const input = attempt.input as { system?: string; memory: { recalled: number } };
    expect(input.memory.recalled).toBe(1);
    expect(input.system).toContain('812 dollars');
    expect(input.system).not.toContain('Lyon');
  });

  it('response cache: an identical request within the TTL costs nothing and is marked cached', async () => {
    const wf = await h.createWorkflow(chat({ cacheTtlSeconds: 60 }));
    const first = await h.start(wf, { text: 'a question worth caching' });
    expect((await h.wait(first)).status).toBe('completed');
    const second = await h.start(wf, { text: 'a question worth caching' });
    expect((await h.wait(second)).status).toBe('completed');
    const [a, b] = [await h.detail(first), await h.detail(second)];
    expect(Number(a.run.estimatedCost)).toBeGreaterThan(0);
    expect(Number(b.run.estimatedCost)).toBe(0);
    expect(b.run.outputData).toEqual(a.run.outputData);
    const attempt = (d: typeof a) => d.attempts.at(-1)!;
    expect(attempt(a).cached).toBe(false);
    expect(attempt(b).cached).toBe(true);
    expect(providerCalls).toBeGreaterThan(0);
  });

  it('rejects a memory config with unknown fields, naming the field', async () => {
    await expect(h.createWorkflow(chat({ threadkey: 'x' }))).rejects.toThrow(/threadkey/);
  });
});
