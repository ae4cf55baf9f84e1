import { testBackend } from '@aiops/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type SignedUp, signUp, startTestServer, type TestServer } from '../test-support.ts';
import { CaseBuilder, type FuzzCase, type OpenApiDoc } from './fuzz-cases.ts';

/**
 * Schema-driven fuzzing: every operation of /openapi.json gets malformed variants (see fuzz-cases.ts),
 * sent through real HTTP with modest concurrency. Any 5xx (or a request that hangs) fails the test.
 * Operations that can end a session or change the organization run as a second user, so the main user
 * keeps reaching the deeper code of every other route. The operations are split into shards, one test
 * file each (`fuzz.<n>.test.ts`), so the suite runs them in parallel on their own servers.
 */
export const SHARDS = 2;
const MIN_REQUESTS = 5_000;
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 15_000;

let s: TestServer;
let owner: SignedUp;
let other: SignedUp;
const ids: Record<string, string> = {};

/** Routes that can end the caller's session or change their organization: fuzzed as `other`. */
const AS_OTHER = /^\/api\/v1\/(auth|organization|members|invitations)\b/;

function pathValue(path: string, name: string): string {
  const collection = path.split('/')[3] ?? '';
  if (name === 'id' && ids[collection]) return ids[collection] as string;
  const fixed: Record<string, string> = {
    provider: 'google',
    token: 'inv_doesnotexistdoesnotexist',
    threadKey: 'fuzz-thread',
    namespace: 'fuzz',
    version: '1',
    stepId: 'a',
  };
  return fixed[name] ?? '00000000-0000-4000-8000-000000000000';
}

async function send(c: FuzzCase): Promise<{ status: number; text: string }> {
  const token = AS_OTHER.test(c.url) ? other.token : owner.token;
  const res = await s.request(c.url, {
    method: c.method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(c.contentType ? { 'content-type': c.contentType } : {}),
    },
    ...(c.body !== undefined && c.method !== 'GET' ? { body: c.body } : {}),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { status: res.status, text: '(event stream)' };
  }
  return { status: res.status, text: await res.text() };
}

/** Declares the fuzz test of shard `shard` (0-based) of `SHARDS`: every SHARDS-th operation. */
export function fuzzShard(shard: number): void {
  beforeAll(async () => {
    // With a step worker: a valid `wait` (up to 300 s) is answered when the run finishes, not after it.
    s = await startTestServer({ logLevel: 'warn', worker: true });
    owner = await signUp(s);
    other = await signUp(s);
    const post = async (path: string, body: unknown) => {
      const r = await call(s, 'POST', path, { token: owner.token, body });
      if (r.status >= 300) throw new Error(`setup ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    ids.agents = (
      await post('/api/v1/agents', { name: 'fuzz', model: 'simulator:echo', promptTemplate: 'x' })
    ).id;
    const wf = await post('/api/v1/workflows', {
      status: 'active',
      definition: {
        name: 'fuzz',
        nodes: [{ id: 'a', type: 'agent', agent: { model: 'simulator:echo', prompt: 'x' } }],
        connections: [],
      },
    });
    ids.workflows = wf.id;
    ids.runs = (await post(`/api/v1/workflows/${wf.id}/runs`, { input: {} })).id;
    ids['api-keys'] = (
      await post('/api/v1/api-keys', { name: 'fuzz', scopes: ['organization:read'] })
    ).apiKey.id;
  });
  afterAll(() => s?.close());

  describe(`schema-driven fuzzing on ${testBackend()}, shard ${shard + 1} of ${SHARDS}`, () => {
    it(`sends at least ${MIN_REQUESTS / SHARDS} malformed requests across its operations; none answers 5xx`, async () => {
      const doc = (await (await s.request('/openapi.json')).json()) as OpenApiDoc;
      const builder = new CaseBuilder(doc, pathValue);
      const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({ path, method, op })),
      );
      // Session-ending routes last, so they cannot cut the others short.
      const risky = (p: string) => /\/auth\/(logout|password|switch-org|refresh|mfa)/.test(p);
      const all = operations.length;
      const mine = operations.filter((_, i) => i % SHARDS === shard);
      mine.sort((a, b) => Number(risky(a.path)) - Number(risky(b.path)));
      const cases = mine.flatMap(({ path, method, op }) => builder.cases(path, method, op));

      const started = performance.now();
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < cases.length) {
          const c = cases[next++] as FuzzCase;
          try {
            const r = await send(c);
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status >= 500)
              failures.push(
                `${c.method} ${c.url.slice(0, 120)} [${c.label}] → ${r.status} ${r.text.slice(0, 200)}`,
              );
          } catch (e) {
            failures.push(
              `${c.method} ${c.url.slice(0, 120)} [${c.label}] → ${(e as Error).name}: ${(e as Error).message}`,
            );
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const seconds = (performance.now() - started) / 1000;
      const counts = [...statuses.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}:${v}`);
      console.log(
        `fuzz shard ${shard + 1}/${SHARDS}: ${cases.length} requests over ${mine.length} of ${all} operations in ${seconds.toFixed(1)} s; statuses ${counts.join(' ')}`,
      );
      expect(failures.slice(0, 30), `${failures.length} failures`).toEqual([]);
      expect(cases.length).toBeGreaterThanOrEqual(MIN_REQUESTS / SHARDS);
      expect(all).toBeGreaterThanOrEqual(70);
      // Most requests reach validation or the route, not the authentication wall.
      expect(statuses.get(401) ?? 0).toBeLessThan(cases.length / 10);
    }, 240_000);
  });
}
