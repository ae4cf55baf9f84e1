import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase, testBackend } from '@aiops/testing';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './open.ts';
import { queryRows, type Tx } from './types.ts';

/**
 * The marketplace's visibility, as the application role with direct SQL: a seller's template, its versions
 * and unpublished listings are invisible to other organizations; a published listing is readable by all
 * but carries no private field; purchases are seen by buyer and seller only; buyers reach the bought
 * content only through `aiops_purchased_content` once paid; aggregates and money columns are not writable.
 */
let t: TestDatabase;
let db: Database;
const seller = randomUUID();
const buyer = randomUUID();
const stranger = randomUUID();
const sellerUser = randomUUID();
const buyerUser = randomUUID();
let template: string;
let published: string;
let hidden: string;
let purchase: string;

const one = async (tx: Tx, q: ReturnType<typeof sql>) => (await queryRows<{ id: string }>(tx, q))[0]!.id;
const as = <T>(org: string, fn: (tx: Tx) => Promise<T>, userId?: string) =>
  db.withTenant(userId ? { organizationId: org, userId } : org, fn);

async function failure(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    const err = e as { cause?: { message?: string; code?: string }; message: string; code?: string };
    return `${err.cause?.code ?? err.code ?? ''} ${err.cause?.message ?? err.message}`;
  }
  return 'no error';
}

beforeAll(async () => {
  t = await createTestDatabase({ poolSize: 2 });
  db = t.db;
  await db.system(async (tx) => {
    for (const [id, name] of [
      [seller, 'S'],
      [buyer, 'B'],
      [stranger, 'X'],
    ] as const)
      await tx.execute(sql`INSERT INTO organizations (id, name, slug) VALUES (${id}, ${name}, ${`o-${id}`})`);
    await tx.execute(
      sql`INSERT INTO users (id, email) VALUES (${sellerUser}, ${`${sellerUser}@e.test`}), (${buyerUser}, ${`${buyerUser}@e.test`})`,
    );
  });
  await as(seller, async (tx) => {
    template = await one(
      tx,
      sql`INSERT INTO ai_templates (organization_id, name, system_prompt, model_config)
          VALUES (${seller}, 'Secret sauce', 'THE SECRET PROMPT', '{"model":"simulator:echo"}') RETURNING id`,
    );
    await tx.execute(
      sql`INSERT INTO ai_template_versions (organization_id, template_id, version, content)
          VALUES (${seller}, ${template}, 1, '{"name":"Secret sauce","systemPrompt":"THE SECRET PROMPT"}')`,
    );
    published = await one(
      tx,
      sql`INSERT INTO marketplace_listings (organization_id, template_id, seller_name, name, price, template_version, status)
          VALUES (${seller}, ${template}, 'S', 'Secret sauce', 9.99, 1, 'published') RETURNING id`,
    );
    const other = await one(
      tx,
      sql`INSERT INTO ai_templates (organization_id, name, system_prompt) VALUES (${seller}, 'Draft', 'x') RETURNING id`,
    );
    hidden = await one(
      tx,
      sql`INSERT INTO marketplace_listings (organization_id, template_id, seller_name, name, price, template_version, status)
          VALUES (${seller}, ${other}, 'S', 'Draft', 1, 1, 'unpublished') RETURNING id`,
    );
  });
  purchase = await as(buyer, (tx) =>
    one(
      tx,
      sql`INSERT INTO template_purchases (organization_id, buyer_id, listing_id, seller_organization_id, template_name,
            template_version, price, platform_fee, seller_payout, idempotency_key)
          VALUES (${buyer}, ${buyerUser}, ${published}, ${seller}, 'Secret sauce', 1, 9.99, 3.00, 6.99, 'k') RETURNING id`,
    ),
  );
});
afterAll(() => t?.destroy());

describe(`marketplace row-level security on ${testBackend()}`, () => {
  it("another organization never reads a seller's templates or versions", async () => {
    for (const org of [buyer, stranger]) {
      const rows = await as(org, (tx) =>
        queryRows(
          tx,
          sql`SELECT * FROM ai_templates WHERE id = ${template}
          UNION ALL SELECT t.* FROM ai_templates t JOIN ai_template_versions v ON v.template_id = t.id`,
        ),
      );
      expect(rows).toEqual([]);
      const versions = await as(org, (tx) => queryRows(tx, sql`SELECT * FROM ai_template_versions`));
      expect(versions).toEqual([]);
    }
  });

  it('published listings are readable by every organization, unpublished ones only by their seller', async () => {
    const seen = await as(stranger, (tx) =>
      queryRows<{ id: string }>(tx, sql`SELECT id FROM marketplace_listings`),
    );
    expect(seen.map((r) => r.id)).toEqual([published]);
    const own = await as(seller, (tx) =>
      queryRows<{ id: string }>(tx, sql`SELECT id FROM marketplace_listings`),
    );
    expect(own.map((r) => r.id).sort()).toEqual([published, hidden].sort());
    // without a tenant: the public listing only (published is public by design), never the seller's others
    const anon = await queryRows<{ id: string }>(db.db, sql`SELECT id FROM marketplace_listings`);
    expect(anon.map((r) => r.id)).toEqual([published]);
  });

  it('the listing table holds no private field of the template', async () => {
    const columns = await db.system((tx) =>
      queryRows<{ c: string }>(
        tx,
        sql`SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'marketplace_listings'`,
      ),
    );
    const names = columns.map((r) => r.c);
    for (const secret of [
      'system_prompt',
      'prompt_template',
      'functions',
      'knowledge_sources',
      'model_config',
      'personality_config',
    ])
      expect(names).not.toContain(secret);
    const row = await as(stranger, (tx) => queryRows(tx, sql`SELECT * FROM marketplace_listings`));
    expect(JSON.stringify(row)).not.toContain('THE SECRET PROMPT');
  });

  it("other organizations cannot change a seller's listing, nor anyone its aggregates", async () => {
    const changed = await as(stranger, (tx) =>
      queryRows(tx, sql`UPDATE marketplace_listings SET price = 0 WHERE id = ${published} RETURNING id`),
    );
    expect(changed).toEqual([]);
    expect(
      await failure(() =>
        as(seller, (tx) =>
          tx.execute(sql`UPDATE marketplace_listings SET rating_sum = 500 WHERE id = ${published}`),
        ),
      ),
    ).toMatch(/permission denied/);
    expect(
      await failure(() =>
        as(stranger, (tx) =>
          tx.execute(
            sql`INSERT INTO marketplace_listings (organization_id, template_id, seller_name, name, template_version, status)
                VALUES (${seller}, ${template}, 'S', 'fake', 1, 'published')`,
          ),
        ),
      ),
    ).toMatch(/row-level security/);
  });

  it('purchases: buyer and seller see them, a stranger does not; money columns are not writable', async () => {
    for (const [org, n] of [
      [buyer, 1],
      [seller, 1],
      [stranger, 0],
    ] as const) {
      const rows = await as(org, (tx) => queryRows(tx, sql`SELECT id FROM template_purchases`));
      expect(rows, org).toHaveLength(n);
    }
    expect(
      await failure(() =>
        as(seller, (tx) =>
          tx.execute(sql`UPDATE template_purchases SET seller_payout = 9.99 WHERE id = ${purchase}`),
        ),
      ),
    ).toMatch(/permission denied/);
    expect(
      await failure(() =>
        as(buyer, (tx) =>
          tx.execute(
            sql`INSERT INTO template_purchases (organization_id, listing_id, seller_organization_id, template_name,
                  template_version, price, platform_fee, seller_payout, idempotency_key)
                VALUES (${buyer}, ${published}, ${seller}, 'x', 1, 9.99, 0, 0, 'k2')`,
          ),
        ),
      ),
    ).toMatch(/template_purchases_sum_check/);
  });

  it('the bought content reaches only the buyer, and only once the purchase is completed', async () => {
    const content = (org: string) =>
      as(org, (tx) =>
        queryRows<{ c: { systemPrompt: string } }>(
          tx,
          sql`SELECT aiops_purchased_content(${purchase}::uuid) AS c`,
        ),
      );
    expect(await failure(() => content(buyer))).toMatch(/^42501 .*pending, not completed/);
    await as(seller, (tx) =>
      tx.execute(sql`UPDATE template_purchases SET payment_status = 'completed' WHERE id = ${purchase}`),
    );
    expect((await content(buyer))[0]!.c.systemPrompt).toBe('THE SECRET PROMPT');
    expect(await failure(() => content(stranger))).toMatch(/^42501 /);
    expect(await failure(() => content(seller))).toMatch(/^42501 /);
  });

  it('ratings: written by the rating user in their organization; aggregates kept by the database', async () => {
    expect(
      await failure(() =>
        as(
          buyer,
          (tx) =>
            tx.execute(
              sql`INSERT INTO template_ratings (organization_id, user_id, listing_id, rating) VALUES (${buyer}, ${sellerUser}, ${published}, 5)`,
            ),
          buyerUser,
        ),
      ),
    ).toMatch(/row-level security/);
    await as(
      buyer,
      (tx) =>
        tx.execute(
          sql`INSERT INTO template_ratings (organization_id, user_id, listing_id, rating) VALUES (${buyer}, ${buyerUser}, ${published}, 4)`,
        ),
      buyerUser,
    );
    const [l] = await as(stranger, (tx) =>
      queryRows<{ rating: string; rating_count: number }>(
        tx,
        sql`SELECT rating::text, rating_count FROM marketplace_listings WHERE id = ${published}`,
      ),
    );
    expect(l).toEqual({ rating: '4.00', rating_count: 1 });
    const reviews = await as(stranger, (tx) => queryRows(tx, sql`SELECT id FROM template_ratings`));
    expect(reviews).toHaveLength(1);
  });
});
