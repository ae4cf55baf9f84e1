/**
 * Import and export of the dictionary as CSV (header row: term, definition, context, tags, usage_examples,
 * related_terms, is_public; lists separated by `|`) or JSON (an array of entries). An imported term that
 * matches a visible entry of the same visibility (same term, ignoring case) updates it; others are created.
 * Related terms are named, and resolved after every row is in.
 */
import { badRequest } from '@aiops/core';
import { type Tx, terminologyEntries } from '@aiops/db';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { asc, eq, sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { authOf } from '../../http/auth.ts';
import { audit, tenant } from '../../http/tenant.ts';
import { type Embedder, TERMINOLOGY_NAMESPACE, termText } from './embed.ts';
import { type ImportRow, importRowSchema } from './schemas.ts';
import { termDto } from './service.ts';

export const IMPORT_MAX_ROWS = 5000;
const list = (v: unknown) =>
  Array.isArray(v)
    ? v.map(String)
    : typeof v === 'string' && v.trim()
      ? v
          .split('|')
          .map((x) => x.trim())
          .filter(Boolean)
      : [];
const bool = (v: unknown) => v === true || (typeof v === 'string' && /^(true|yes|1|public)$/i.test(v.trim()));

function rowsOf(format: 'csv' | 'json', data: string): unknown[] {
  try {
    if (format === 'json') {
      const parsed = JSON.parse(data) as unknown;
      const arr = Array.isArray(parsed) ? parsed : (parsed as { data?: unknown })?.data;
      if (!Array.isArray(arr)) throw new Error('expected an array of entries');
      return arr;
    }
    return parse(data, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as unknown[];
  } catch (e) {
    throw badRequest(`body.data is not valid ${format.toUpperCase()}: ${(e as Error).message.slice(0, 300)}`);
  }
}

function normalize(raw: unknown, isPublic: boolean | undefined): unknown {
  const r = (raw ?? {}) as Record<string, unknown>;
  return {
    term: r.term,
    definition: r.definition,
    context: r.context === '' || r.context === undefined ? null : r.context,
    usageExamples: list(r.usageExamples ?? r.usage_examples),
    relatedTerms: list(r.relatedTerms ?? r.related_terms),
    tags: list(r.tags),
    isPublic: isPublic ?? bool(r.isPublic ?? r.is_public),
  };
}

export async function importTerms(
  request: FastifyRequest,
  embed: Embedder,
  body: { format: 'csv' | 'json'; data: string; isPublic?: boolean | undefined },
) {
  const auth = authOf(request);
  const raw = rowsOf(body.format, body.data);
  if (raw.length > IMPORT_MAX_ROWS)
    throw badRequest(`at most ${IMPORT_MAX_ROWS} entries per import (got ${raw.length}): split the file`);
  const rows: ImportRow[] = [];
  const issues: { path: string; message: string }[] = [];
  raw.forEach((r, i) => {
    const parsed = importRowSchema.safeParse(normalize(r, body.isPublic));
    if (parsed.success) rows.push(parsed.data);
    else
      for (const issue of parsed.error.issues.slice(0, 3))
        issues.push({ path: `row ${i + 1}.${issue.path.join('.')}`, message: issue.message });
  });
  if (issues.length)
    throw badRequest(
      `${issues.length} problem(s) in the imported rows, nothing was imported: ${issues
        .slice(0, 5)
        .map((x) => `${x.path}: ${x.message}`)
        .join('; ')}`,
      {
        issues: issues.slice(0, 50),
      },
    );
  if (rows.some((r) => !r.isPublic) && !auth.userId)
    throw badRequest(
      'private entries belong to a signed-in user: import with isPublic: true when using an API key',
    );
  const embeddings = await embed(auth.organizationId, rows.map(termText));
  return tenant(request, async (tx) => {
    let created = 0;
    let updated = 0;
    const ids = new Map<string, string>();
    for (const [i, r] of rows.entries()) {
      const [existing] = await tx
        .select({ id: terminologyEntries.id })
        .from(terminologyEntries)
        .where(
          sql`lower(${terminologyEntries.term}) = lower(${r.term}) AND ${terminologyEntries.isPublic} = ${r.isPublic}`,
        )
        .limit(1);
      const values = {
        term: r.term,
        definition: r.definition,
        context: r.context ?? null,
        usageExamples: r.usageExamples,
        tags: [...new Set(r.tags)],
        isPublic: r.isPublic,
      };
      let id: string;
      if (existing) {
        await tx
          .update(terminologyEntries)
          .set({ ...values, updatedAt: new Date() })
          .where(eq(terminologyEntries.id, existing.id));
        id = existing.id;
        updated += 1;
      } else {
        const [row] = await tx
          .insert(terminologyEntries)
          .values({ ...values, organizationId: auth.organizationId, userId: auth.userId })
          .returning({ id: terminologyEntries.id });
        id = row!.id;
        created += 1;
      }
      ids.set(r.term.toLowerCase(), id);
      await request.server.db.embeddings.upsert(tx, {
        organizationId: auth.organizationId,
        namespace: TERMINOLOGY_NAMESPACE,
        refId: id,
        content: termText(r),
        embedding: embeddings[i]!,
      });
    }
    await linkRelated(tx, rows, ids);
    await audit(tx, request, {
      entityType: 'terminology_entry',
      entityId: null,
      action: 'imported',
      metadata: { format: body.format, created, updated },
    });
    return { created, updated };
  });
}

/** Related terms named in the import become ids (names not in the dictionary are dropped). */
async function linkRelated(tx: Tx, rows: ImportRow[], ids: Map<string, string>) {
  const named = rows.filter((r) => r.relatedTerms.length);
  if (!named.length) return;
  const lookup = await tx
    .select({ id: terminologyEntries.id, term: terminologyEntries.term })
    .from(terminologyEntries)
    .where(
      sql`lower(${terminologyEntries.term}) IN (${sql.join(
        [...new Set(named.flatMap((r) => r.relatedTerms.map((t) => t.toLowerCase())))].map((t) => sql`${t}`),
        sql`, `,
      )})`,
    );
  for (const r of named) {
    const self = ids.get(r.term.toLowerCase())!;
    const related = r.relatedTerms
      .map(
        (t) => ids.get(t.toLowerCase()) ?? lookup.find((l) => l.term.toLowerCase() === t.toLowerCase())?.id,
      )
      .filter((x): x is string => x !== undefined && x !== self);
    await tx
      .update(terminologyEntries)
      .set({ relatedTerms: [...new Set(related)] })
      .where(eq(terminologyEntries.id, self));
  }
}

/** Every entry the caller can see, as CSV or JSON (related terms by name). */
export function exportTerms(request: FastifyRequest, format: 'csv' | 'json') {
  return tenant(request, async (tx) => {
    const rows = await tx
      .select()
      .from(terminologyEntries)
      .orderBy(asc(sql`lower(${terminologyEntries.term})`))
      .limit(100_000);
    const names = new Map(rows.map((r) => [r.id, r.term]));
    const out = rows.map((r) => ({
      ...termDto(r),
      relatedTerms: r.relatedTerms.map((id) => names.get(id)).filter(Boolean) as string[],
    }));
    if (format === 'json') return JSON.stringify(out, null, 2);
    return stringify(
      out.map((r) => ({
        term: r.term,
        definition: r.definition,
        context: r.context ?? '',
        tags: r.tags.join('|'),
        usage_examples: r.usageExamples.join('|'),
        related_terms: r.relatedTerms.join('|'),
        is_public: r.isPublic ? 'true' : 'false',
      })),
      {
        header: true,
        columns: ['term', 'definition', 'context', 'tags', 'usage_examples', 'related_terms', 'is_public'],
      },
    );
  });
}
