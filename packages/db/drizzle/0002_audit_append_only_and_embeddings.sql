-- Audit rows are append-only for the application role.
REVOKE UPDATE, DELETE, TRUNCATE ON "audit_logs" FROM aiops_app;
--> statement-breakpoint
-- Cosine distance over real[] for servers without pgvector; same meaning as pgvector's <=> operator.
CREATE OR REPLACE FUNCTION aiops_cosine_distance(a real[], b real[]) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT 1 - sum(x::double precision * y) / nullif(sqrt(sum(x::double precision * x)) * sqrt(sum(y::double precision * y)), 0)
  FROM unnest(a, b) AS u(x, y)
$$;
--> statement-breakpoint
-- Embeddings of any tenant-owned text (memory, terminology, documents): pgvector where installed,
-- real[] otherwise. The repository (src/embeddings.ts) reads the column type and picks the query.
DO $$
DECLARE
  vector_type text := CASE WHEN EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN 'vector' ELSE 'real[]' END;
BEGIN
  EXECUTE format($f$
    CREATE TABLE IF NOT EXISTS "embeddings" (
      "id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
      "organization_id" uuid NOT NULL REFERENCES "organizations"("id") ON DELETE CASCADE,
      "namespace" varchar(100) NOT NULL,
      "ref_id" varchar(255) NOT NULL,
      "content" text NOT NULL,
      "metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
      "dimensions" integer NOT NULL CHECK ("dimensions" > 0),
      "embedding" %s NOT NULL,
      "created_at" timestamp with time zone DEFAULT now() NOT NULL,
      "updated_at" timestamp with time zone DEFAULT now() NOT NULL
    )$f$, vector_type);
END
$$;
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "embeddings_ref_key" ON "embeddings" ("organization_id", "namespace", "ref_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "idx_embeddings_content_trgm" ON "embeddings" USING gin ("content" gin_trgm_ops);
--> statement-breakpoint
ALTER TABLE "embeddings" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "embeddings" AS PERMISSIVE FOR ALL TO public
  USING ("organization_id" = nullif(current_setting('app.org_id', true), '')::uuid)
  WITH CHECK ("organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);
