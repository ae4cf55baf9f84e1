import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl } from '@aiops/config';
import { generateKey, parseKeyring, SecretBox } from '@aiops/core';
import { type Database, integrations, openDb, organizations } from '@aiops/db';
import { createPostgresDatabase, dropPostgresDatabase, testBackend } from '@aiops/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-cli.ts';

const children: ChildProcess[] = [];
let dir: string;
let pgUrl: string | undefined;
const K1 = generateKey();
const K2 = generateKey();

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aiops-keys-'));
  const admin = testDatabaseUrl();
  if (admin) pgUrl = await createPostgresDatabase(admin);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  const admin = testDatabaseUrl();
  if (admin && pgUrl) await dropPostgresDatabase(admin, pgUrl);
});

const dataDir = () => path.join(dir, 'data');

function run(args: string[], keys: string) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    AIOPS_ENCRYPTION_KEYS: keys,
    ...(pgUrl ? { DATABASE_URL: pgUrl } : {}),
  };
  return runCli([...args, '--data-dir', dataDir()], env, dir, children);
}

function open(): Promise<Database> {
  return pgUrl ? openDb({ kind: 'postgres', url: pgUrl }) : openDb({ kind: 'pglite', dataDir: dataDir() });
}

describe(`aiops keys on ${testBackend()}`, () => {
  it('rotate re-encrypts integration credentials under the newest key, idempotently; status counts per key id', async () => {
    // An integration encrypted under k1, written as the server would.
    const db = await open();
    const k1 = new SecretBox(parseKeyring(`k1:${K1}`));
    const id = crypto.randomUUID();
    try {
      await db.system(async (tx) => {
        const [org] = await tx
          .insert(organizations)
          .values({ name: 'Keys', slug: `keys-${id}` })
          .returning();
        await tx.insert(integrations).values({
          id,
          organizationId: org!.id,
          name: 'OpenAI',
          provider: 'openai',
          credentialsEncrypted: k1.encrypt(
            JSON.stringify({ apiKey: 'sk-test-0123456789' }),
            `integration:${id}`,
          ),
          credentialsKeyId: 'k1',
        });
      });
    } finally {
      await db.close();
    }

    const status = run(['keys', 'status'], `k1:${K1}`);
    expect(await status.exited, status.err()).toBe(0);
    expect(status.out()).toMatch(/current key id: k1/);
    expect(status.out()).toMatch(/integration credentials: 1 under k1 \(current\)/);

    const rotate = run(['keys', 'rotate'], `k1:${K1},k2:${K2}`);
    expect(await rotate.exited, rotate.err()).toBe(0);
    expect(rotate.out()).toMatch(/under key id k2/);
    expect(rotate.out()).toMatch(
      /integration credentials: 1 re-encrypted, 0 already current, 0 failed \(of 1\)/,
    );

    const again = run(['keys', 'rotate'], `k1:${K1},k2:${K2}`);
    expect(await again.exited).toBe(0);
    expect(again.out()).toMatch(
      /integration credentials: 0 re-encrypted, 1 already current, 0 failed \(of 1\)/,
    );

    // A ring without k2 cannot read what is now under it: rotation reports it and exits 1.
    const wrong = run(['keys', 'rotate'], `k3:${generateKey()}`);
    expect(await wrong.exited).toBe(1);
    expect(wrong.err()).toMatch(/do not decrypt with the configured keys/);

    // The server refuses to start with a key ring that cannot read the stored secrets, and says why.
    const start = run(['start', '--port', '0'], `k3:${generateKey()}`);
    expect(await start.exited).not.toBe(0);
    expect(start.err()).toMatch(/AIOPS_ENCRYPTION_KEYS[\s\S]*do not decrypt the stored secrets[\s\S]*"k2"/);

    const after = await open();
    try {
      const [row] = await after.system((tx) => tx.select().from(integrations).where(eq(integrations.id, id)));
      expect(row!.credentialsKeyId).toBe('k2');
      const k2only = new SecretBox(parseKeyring(`k2:${K2}`));
      expect(JSON.parse(k2only.decrypt(row!.credentialsEncrypted!, `integration:${id}`))).toEqual({
        apiKey: 'sk-test-0123456789',
      });
    } finally {
      await after.close();
    }
  }, 300_000);
});
