import { badRequest, forbidden, notFound } from '@aiops/core';
import { type Tx, terminologyEntries } from '@aiops/db';
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { type Embedder, TERMINOLOGY_NAMESPACE, termText } from './embed.ts';
import type { CreateTermBody } from './schemas.ts';
import { CANDIDATES, hybridSearch, SEMANTIC_MIN_SIMILARITY } from './search.ts';
import type { TermVectorCache } from './vector-cache.ts';

export type TermRow = typeof terminologyEntries.$inferSelect;

export function termDto(r: TermRow) {
  return {
    id: r.id,
    term: r.term,
    definition: r.definition,
    context: r.context,
    usageExamples: r.usageExamples,
    relatedTerms: r.relatedTerms,
    tags: r.tags,
    isPublic: r.isPublic,
    userId: r.userId,
    frequency: r.frequency,
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
export type TermDto = ReturnType<typeof termDto>;

async function findTerm(tx: Tx, id: string): Promise<TermRow> {
  const [row] = await tx.select().from(terminologyEntries).where(eq(terminologyEntries.id, id));
  if (!row) throw notFound('terminology entry', id);
  return row;
}

/** Related terms must be entries the caller can see (row-level security hides others' private ones). */
async function checkRelated(tx: Tx, ids: string[], self?: string) {
  const unique = [...new Set(ids)].filter((id) => id !== self);
  if (!unique.length) return unique;
  const rows = await tx
    .select({ id: terminologyEntries.id })
    .from(terminologyEntries)
    .where(inArray(terminologyEntries.id, unique));
  const missing = unique.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length)
    throw badRequest(`body.relatedTerms: no entry ${missing.join(', ')} that you can see`, {
      issues: [{ path: 'body.relatedTerms', message: 'unknown entry' }],
    });
  return unique;
}

function privateNeedsUser(isPublic: boolean, userId: string | null) {
  if (!isPublic && !userId)
    throw badRequest(
      'a private entry belongs to a signed-in user: API keys create public entries (isPublic: true)',
      {
        issues: [{ path: 'body.isPublic', message: 'must be true for API keys' }],
      },
    );
}

export async function createTerm(request: FastifyRequest, embed: Embedder, body: CreateTermBody) {
  const auth = authOf(request);
  privateNeedsUser(body.isPublic, auth.userId);
  const [embedding] = await embed(auth.organizationId, [termText(body)]);
  return tenant(request, async (tx) => {
    const related = await checkRelated(tx, body.relatedTerms);
    const [row] = await tx
      .insert(terminologyEntries)
      .values({
        organizationId: auth.organizationId,
        userId: auth.userId,
        term: body.term,
        definition: body.definition,
        context: body.context ?? null,
        usageExamples: body.usageExamples,
        relatedTerms: related,
        tags: [...new Set(body.tags)],
        isPublic: body.isPublic,
      })
      .returning();
    await request.server.db.embeddings.upsert(tx, {
      organizationId: auth.organizationId,
      namespace: TERMINOLOGY_NAMESPACE,
      refId: row!.id,
      content: termText(row!),
      embedding: embedding!,
    });
    const dto = termDto(row!);
    await audit(tx, request, {
      entityType: 'terminology_entry',
      entityId: row!.id,
      action: 'created',
      after: dto,
    });
    return dto;
  });
}

export function getTerm(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const row = await findTerm(tx, id);
    const related = row.relatedTerms.length
      ? await tx
          .select({ id: terminologyEntries.id, term: terminologyEntries.term })
          .from(terminologyEntries)
          .where(inArray(terminologyEntries.id, row.relatedTerms))
      : [];
    return { ...termDto(row), related };
  });
}

export async function updateTerm(
  request: FastifyRequest,
  embed: Embedder,
  id: string,
  body: Partial<CreateTermBody> & { context?: CreateTermBody['context'] },
) {
  const auth = authOf(request);
  const current = await tenant(request, (tx) => findTerm(tx, id));
  if (body.isPublic === false && current.userId !== auth.userId)
    throw forbidden('only the author of an entry can make it private');
  const term = body.term ?? current.term;
  const definition = body.definition ?? current.definition;
  const reembed = term !== current.term || definition !== current.definition;
  const [embedding] = reembed ? await embed(auth.organizationId, [termText({ term, definition })]) : [];
  return tenant(request, async (tx) => {
    const before = termDto(await findTerm(tx, id));
    const related =
      body.relatedTerms !== undefined ? await checkRelated(tx, body.relatedTerms, id) : undefined;
    const [row] = await tx
      .update(terminologyEntries)
      .set({
        ...(body.term !== undefined ? { term: body.term } : {}),
        ...(body.definition !== undefined ? { definition: body.definition } : {}),
        ...(body.context !== undefined ? { context: body.context } : {}),
        ...(body.usageExamples !== undefined ? { usageExamples: body.usageExamples } : {}),
        ...(related !== undefined ? { relatedTerms: related } : {}),
        ...(body.tags !== undefined ? { tags: [...new Set(body.tags)] } : {}),
        ...(body.isPublic !== undefined ? { isPublic: body.isPublic } : {}),
        updatedAt: new Date(),
      })
      .where(eq(terminologyEntries.id, id))
      .returning();
    if (embedding)
      await request.server.db.embeddings.upsert(tx, {
        organizationId: auth.organizationId,
        namespace: TERMINOLOGY_NAMESPACE,
        refId: id,
        content: termText(row!),
        embedding,
      });
    const dto = termDto(row!);
    await audit(tx, request, {
      entityType: 'terminology_entry',
      entityId: id,
      action: 'updated',
      before,
      after: dto,
    });
    return dto;
  });
}

export function deleteTerm(request: FastifyRequest, id: string) {
  return tenant(request, async (tx) => {
    const before = termDto(await findTerm(tx, id));
    await tx.delete(terminologyEntries).where(eq(terminologyEntries.id, id));
    await request.server.db.embeddings.remove(tx, TERMINOLOGY_NAMESPACE, id);
    await audit(tx, request, { entityType: 'terminology_entry', entityId: id, action: 'deleted', before });
  });
}

function filters(q: { context?: string | undefined; tag?: string | undefined }): SQL[] {
  const out: SQL[] = [];
  if (q.context) out.push(eq(terminologyEntries.context, q.context as never));
  if (q.tag) out.push(sql`${terminologyEntries.tags} ? ${q.tag}`);
  return out;
}

export function listTerms(
  request: FastifyRequest,
  q: { limit: number; offset: number; context?: string | undefined; tag?: string | undefined },
) {
  return tenant(request, async (tx) => {
    const rows = await tx
      .select()
      .from(terminologyEntries)
      .where(and(...filters(q)))
      .orderBy(asc(sql`lower(${terminologyEntries.term})`), asc(terminologyEntries.id))
      .limit(q.limit + 1)
      .offset(q.offset);
    return {
      data: rows.slice(0, q.limit).map(termDto),
      nextOffset: rows.length > q.limit ? q.offset + q.limit : null,
    };
  });
}

export async function searchTerms(
  request: FastifyRequest,
  embed: Embedder,
  vectors: TermVectorCache,
  q: { q: string; limit: number; context?: string | undefined; tag?: string | undefined; semantic: string },
) {
  const auth = authOf(request);
  const [embedding] = q.semantic === 'true' ? await embed(auth.organizationId, [q.q]) : [];
  return tenant(request, async (tx) => {
    const near = embedding
      ? await vectors.nearest(tx, auth.organizationId, embedding, CANDIDATES, SEMANTIC_MIN_SIMILARITY)
      : undefined;
    const hits = await hybridSearch(request.server.db.embeddings, tx, { ...q, text: q.q, embedding }, near);
    const rows = hits.length
      ? await tx
          .select()
          .from(terminologyEntries)
          .where(
            inArray(
              terminologyEntries.id,
              hits.map((h) => h.id),
            ),
          )
      : [];
    return {
      data: hits.map((h) => ({
        entry: termDto(rows.find((r) => r.id === h.id)!),
        score: h.score,
        match: { exact: h.exact, fullText: h.fullText, fuzzy: h.fuzzy, semantic: h.semantic },
      })),
    };
  });
}
