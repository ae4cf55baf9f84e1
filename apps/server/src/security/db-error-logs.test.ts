import { randomBytes } from 'node:crypto';
import { apiKeys, users } from '@aiops/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../services/passwords.ts';
import { sha256 } from '../services/tokens.ts';
import { call, signUp, startTestServer, type TestServer } from '../test-support.ts';

/**
 * A failed insert's error carries the query's values (Drizzle puts them in the message, `params` and the
 * stack; PostgreSQL's `detail` repeats the key). Logged through the server's logger, none may remain.
 */
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ logLevel: 'debug' });
});
afterAll(() => s?.close());

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the insert to fail');
}

describe('database errors are logged without their parameters', () => {
  it('a duplicate user: the log line has the SQL and the code, not the email or the argon2id hash', async () => {
    const email = `dup-${randomBytes(4).toString('hex')}@example.test`;
    const passwordHash = await hashPassword('Another-Long-Secret-77!');
    const insert = () => s.database.db.system((tx) => tx.insert(users).values({ email, passwordHash }));
    await insert();
    const err = await failure(insert);
    const before = s.logs.length;
    s.app.log.error({ err }, 'unhandled error');
    const lines = s.logs.slice(before).join('\n');
    expect(lines).toContain('insert into \\"users\\"');
    expect(lines).toContain('23505');
    expect(lines).not.toContain('$argon2');
    expect(lines).not.toContain(passwordHash);
    expect(lines).not.toContain(email);
  });

  it("an API key's hash stays out of the log", async () => {
    const u = await signUp(s);
    const keyHash = sha256(`aio_${randomBytes(24).toString('hex')}`);
    const insert = () =>
      s.database.db.withTenant(u.organizationId, (tx) =>
        tx
          .insert(apiKeys)
          .values({ organizationId: u.organizationId, name: 'k', keyHash, keyPrefix: 'aio_test' }),
      );
    await insert();
    const err = await failure(insert);
    const before = s.logs.length;
    s.app.log.warn({ err }, 'failed');
    const lines = s.logs.slice(before).join('\n');
    expect(lines).toContain('api_keys');
    expect(lines).not.toContain(keyHash);
  });

  it('whatever a request that fails in the database answers, its log lines carry no hash', async () => {
    const before = s.logs.length;
    const email = `nul-${randomBytes(4).toString('hex')}@example.test`;
    const r = await call(s, 'POST', '/api/v1/auth/signup', {
      body: { email, password: 'Another-Long-Secret-77!', name: 'a\u0000b', organizationName: 'Nul Org' },
    });
    expect(r.status).toBeGreaterThanOrEqual(400);
    const lines = s.logs.slice(before).join('\n');
    expect(lines).not.toContain('$argon2');
    expect(lines).not.toContain(email);
  });
});
