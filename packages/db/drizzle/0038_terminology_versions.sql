CREATE TABLE "terminology_versions" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"version" bigint DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "terminology_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "terminology_versions" ADD CONSTRAINT "terminology_versions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "terminology_versions" AS PERMISSIVE FOR ALL TO public USING ("terminology_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("terminology_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- The application role reads its organization's version (row-level security above); only the triggers
-- below, as the owner, write it, so a tenant cannot hold a stale cache in place by rewinding the counter.
REVOKE ALL ON "terminology_versions" FROM aiops_app;
--> statement-breakpoint
GRANT SELECT ON "terminology_versions" TO aiops_app;
--> statement-breakpoint
-- Bumps the version of every organization whose entries the statement changed, once per statement (transition
-- tables: an import of 10,000 entries is one bump). An update that changes usage only (`frequency`,
-- `last_used_at`, as glossary injection does) leaves it: the search's cache holds nothing of those. An
-- organization being deleted (cascade) is skipped: its counter goes with it.
CREATE FUNCTION aiops_term_version_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO terminology_versions AS v (organization_id, version)
      SELECT DISTINCT n.organization_id, 1 FROM new_rows n
      WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = n.organization_id)
    ON CONFLICT (organization_id) DO UPDATE SET version = v.version + 1, updated_at = now();
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO terminology_versions AS v (organization_id, version)
      SELECT DISTINCT d.organization_id, 1 FROM old_rows d
      WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = d.organization_id)
    ON CONFLICT (organization_id) DO UPDATE SET version = v.version + 1, updated_at = now();
  ELSE
    INSERT INTO terminology_versions AS v (organization_id, version)
      SELECT c.organization_id, 1 FROM (
        SELECT n.organization_id FROM new_rows n LEFT JOIN old_rows d ON d.id = n.id
        WHERE d.id IS NULL
           OR (d.organization_id, d.user_id, d.term, d.definition, d.context, d.usage_examples,
               d.related_terms, d.tags, d.is_public, d.created_at, d.updated_at)
              IS DISTINCT FROM
              (n.organization_id, n.user_id, n.term, n.definition, n.context, n.usage_examples,
               n.related_terms, n.tags, n.is_public, n.created_at, n.updated_at)
        UNION
        SELECT d.organization_id FROM old_rows d LEFT JOIN new_rows n ON n.id = d.id
        WHERE n.id IS NULL OR n.organization_id <> d.organization_id
      ) c
      WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = c.organization_id)
    ON CONFLICT (organization_id) DO UPDATE SET version = v.version + 1, updated_at = now();
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_term_version_bump() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER terminology_entries_version_insert AFTER INSERT ON terminology_entries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION aiops_term_version_bump();
--> statement-breakpoint
CREATE TRIGGER terminology_entries_version_update AFTER UPDATE ON terminology_entries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION aiops_term_version_bump();
--> statement-breakpoint
CREATE TRIGGER terminology_entries_version_delete AFTER DELETE ON terminology_entries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION aiops_term_version_bump();
--> statement-breakpoint
INSERT INTO terminology_versions (organization_id, version)
  SELECT DISTINCT organization_id, 1 FROM terminology_entries;
--> statement-breakpoint
-- The dictionary's version, read before every semantic search (it replaces a count of the organization's
-- entries): one primary-key lookup, as the caller, under row-level security. '0': never changed.
CREATE OR REPLACE FUNCTION aiops_term_version()
RETURNS text LANGUAGE sql STABLE SECURITY INVOKER SET search_path = public, pg_temp AS $$
  SELECT coalesce((SELECT version::text FROM terminology_versions
                   WHERE organization_id = nullif(current_setting('app.org_id', true), '')::uuid), '0')
$$;
--> statement-breakpoint
-- Lexical candidates (migration 0023), the same rows and scores, about twice as fast: the tsquery and the
-- lowered query are computed once (CTE `o`) instead of for every row the index returns — rechecking `@@`
-- and ranking each of, say, 500 full-text matches parsed `websearch_to_tsquery(p_query)` again.
CREATE OR REPLACE FUNCTION aiops_term_candidates(p_query text, p_limit int)
RETURNS TABLE(id uuid, kind text, score double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH o AS MATERIALIZED (SELECT nullif(current_setting('app.org_id', true), '')::uuid AS org,
                                 websearch_to_tsquery('english', p_query) AS tsq, lower(p_query) AS lq),
  ex AS (SELECT t.id, 'exact'::text AS kind, 1::float8 AS score FROM terminology_entries t, o
         WHERE t.organization_id = o.org AND lower(t.term) = o.lq LIMIT p_limit),
  fts AS (SELECT t.id, 'fts'::text AS kind, ts_rank_cd(t.search_vector, o.tsq, 32)::float8 AS score
          FROM terminology_entries t, o
          WHERE t.search_vector @@ o.tsq AND t.organization_id = o.org
          ORDER BY score DESC LIMIT p_limit),
  trg AS (SELECT t.id, 'trgm'::text AS kind, similarity(lower(t.term), o.lq)::float8 AS score
          FROM terminology_entries t, o
          WHERE lower(t.term) % o.lq AND t.organization_id = o.org
          ORDER BY score DESC LIMIT p_limit)
  SELECT * FROM ex UNION ALL SELECT * FROM fts UNION ALL SELECT * FROM trg
$$;
