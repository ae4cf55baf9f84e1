import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeTurns } from './pglite-turns.ts';

let client: PGlite;

beforeAll(async () => {
  client = await PGlite.create();
  takeTurns(client);
  await client.exec('CREATE TABLE t (n int)');
});
afterAll(async () => {
  await client.close();
});

describe('PGlite in turns', () => {
  it('lets an HTTP request in while a long queue of statements runs', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const total = 500;
      let done = 0;
      const queue = Array.from({ length: total }, (_, i) =>
        client.query('SELECT $1::int AS n', [i]).then(() => done++),
      );
      const { port } = server.address() as AddressInfo;
      const answered = await fetch(`http://127.0.0.1:${port}/`).then(async (r) => {
        await r.text();
        return done;
      });
      await Promise.all(queue);
      expect(done).toBe(total);
      // Without turns every queued statement ran before the socket was read (answered === total).
      expect(answered).toBeLessThan(total / 2);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('serves turns first come, first served, a transaction holding its turn to the end', async () => {
    const order: string[] = [];
    const tx = client.transaction(async (t) => {
      await t.query('INSERT INTO t VALUES (1)');
      await new Promise((r) => setTimeout(r, 20));
      await t.query('INSERT INTO t VALUES (2)');
      order.push('tx');
    });
    const read = client.query<{ c: number }>('SELECT count(*)::int AS c FROM t').then((r) => {
      order.push('read');
      return r.rows[0]!.c;
    });
    const exec = client.exec('INSERT INTO t VALUES (3)').then(() => order.push('exec'));
    const [, seen] = await Promise.all([tx, read, exec]);
    expect(order).toEqual(['tx', 'read', 'exec']);
    expect(seen).toBe(2);
  });

  it('gives the turn back when a statement or a transaction fails', async () => {
    await expect(client.query('SELECT * FROM missing_table')).rejects.toThrow(/missing_table/);
    await expect(
      client.transaction(async (t) => {
        await t.query('INSERT INTO t VALUES (4)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await client.query<{ c: number }>('SELECT count(*)::int AS c FROM t WHERE n = 4');
    expect(rows[0]!.c).toBe(0);
  });
});
