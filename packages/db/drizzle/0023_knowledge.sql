CREATE TABLE "conversation_attachments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"uploaded_by" uuid,
	"name" varchar(255) NOT NULL,
	"media_type" varchar(100) NOT NULL,
	"size_bytes" integer NOT NULL,
	"data" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conversation_attachments_size_check" CHECK ("conversation_attachments"."size_bytes" >= 0)
);
--> statement-breakpoint
ALTER TABLE "conversation_attachments" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "conversation_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"sender_type" varchar(10) NOT NULL,
	"sender_id" varchar(100),
	"model" varchar(255),
	"kind" varchar(20) DEFAULT 'message' NOT NULL,
	"reply_to" uuid,
	"round" integer DEFAULT 0 NOT NULL,
	"status" varchar(10) DEFAULT 'completed' NOT NULL,
	"content" text NOT NULL,
	"error" jsonb,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"input_tokens" integer DEFAULT 0 NOT NULL,
	"output_tokens" integer DEFAULT 0 NOT NULL,
	"tokens_used" integer DEFAULT 0 NOT NULL,
	"cost" numeric(14, 6) DEFAULT '0' NOT NULL,
	"latency_ms" integer,
	"attachments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rating" smallint,
	"rated_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "conversation_messages_sender_check" CHECK ("conversation_messages"."sender_type" in ('user', 'ai')),
	CONSTRAINT "conversation_messages_status_check" CHECK ("conversation_messages"."status" in ('completed', 'failed')),
	CONSTRAINT "conversation_messages_rating_check" CHECK ("conversation_messages"."rating" IS NULL OR "conversation_messages"."rating" BETWEEN 1 AND 5)
);
--> statement-breakpoint
ALTER TABLE "conversation_messages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"user_id" uuid,
	"title" varchar(500),
	"mode" varchar(20) DEFAULT 'single' NOT NULL,
	"participants" jsonb NOT NULL,
	"system_prompt" text,
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total_tokens_used" integer DEFAULT 0 NOT NULL,
	"total_cost" numeric(14, 6) DEFAULT '0' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_message_at" timestamp with time zone,
	CONSTRAINT "conversations_mode_check" CHECK ("conversations"."mode" in ('single', 'multi', 'collaborative'))
);
--> statement-breakpoint
ALTER TABLE "conversations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "learning_patterns" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"user_id" uuid,
	"pattern_type" varchar(40) NOT NULL,
	"key" varchar(600) NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"confidence" numeric(5, 4) DEFAULT '0' NOT NULL,
	"occurrences" integer DEFAULT 0 NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "learning_patterns_type_check" CHECK ("learning_patterns"."pattern_type" in ('terminology_usage', 'ai_preference', 'workflow_pattern')),
	CONSTRAINT "learning_patterns_confidence_check" CHECK ("learning_patterns"."confidence" BETWEEN 0 AND 1)
);
--> statement-breakpoint
ALTER TABLE "learning_patterns" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "terminology_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"user_id" uuid,
	"term" varchar(500) NOT NULL,
	"definition" text NOT NULL,
	"context" varchar(20),
	"usage_examples" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"related_terms" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"is_public" boolean DEFAULT false NOT NULL,
	"frequency" integer DEFAULT 0 NOT NULL,
	"last_used_at" timestamp with time zone,
	"search_vector" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce(term, '')), 'A') || setweight(to_tsvector('english', coalesce(definition, '')), 'B')) STORED,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "terminology_context_check" CHECK ("terminology_entries"."context" IS NULL OR "terminology_entries"."context" in ('technical', 'business', 'personal', 'casual')),
	CONSTRAINT "terminology_private_author_check" CHECK ("terminology_entries"."is_public" OR "terminology_entries"."user_id" IS NOT NULL)
);
--> statement-breakpoint
ALTER TABLE "terminology_entries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "conversation_attachments" ADD CONSTRAINT "conversation_attachments_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_attachments" ADD CONSTRAINT "conversation_attachments_uploaded_by_users_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_messages" ADD CONSTRAINT "conversation_messages_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_messages" ADD CONSTRAINT "conversation_messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "learning_patterns" ADD CONSTRAINT "learning_patterns_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "learning_patterns" ADD CONSTRAINT "learning_patterns_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminology_entries" ADD CONSTRAINT "terminology_entries_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "terminology_entries" ADD CONSTRAINT "terminology_entries_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_conversation_attachments_org" ON "conversation_attachments" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_conversation_messages_conv" ON "conversation_messages" USING btree ("conversation_id","created_at","id");--> statement-breakpoint
CREATE INDEX "idx_conversations_org_last" ON "conversations" USING btree ("organization_id","last_message_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_conversations_org_created" ON "conversations" USING btree ("organization_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "learning_patterns_key" ON "learning_patterns" USING btree ("organization_id","pattern_type","key");--> statement-breakpoint
CREATE INDEX "idx_learning_patterns_type" ON "learning_patterns" USING btree ("organization_id","pattern_type","confidence" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_terminology_org_term" ON "terminology_entries" USING btree ("organization_id",lower("term"));--> statement-breakpoint
CREATE INDEX "idx_terminology_search" ON "terminology_entries" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "idx_terminology_term_trgm" ON "terminology_entries" USING gin (lower("term") gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "idx_terminology_frequency" ON "terminology_entries" USING btree ("organization_id","frequency" DESC NULLS LAST);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "conversation_attachments" AS PERMISSIVE FOR ALL TO public USING ("conversation_attachments"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("conversation_attachments"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "conversation_messages" AS PERMISSIVE FOR ALL TO public USING ("conversation_messages"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("conversation_messages"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "conversations" AS PERMISSIVE FOR ALL TO public USING ("conversations"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("conversations"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "learning_patterns" AS PERMISSIVE FOR ALL TO public USING ("learning_patterns"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("learning_patterns"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "terminology_entries" AS PERMISSIVE FOR ALL TO public USING ("terminology_entries"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("terminology_entries"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "terminology_visibility" ON "terminology_entries" AS RESTRICTIVE FOR ALL TO public USING ("terminology_entries"."is_public" OR "terminology_entries"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK ("terminology_entries"."is_public" OR "terminology_entries"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);--> statement-breakpoint
-- Conversations, terminology and learning (issue 18). The application role reads and writes these tables;
-- row-level security above decides which rows (private terminology entries: their author only).
GRANT SELECT, INSERT, UPDATE, DELETE ON "conversations", "conversation_messages", "conversation_attachments",
  "terminology_entries", "learning_patterns" TO aiops_app;
--> statement-breakpoint
-- Lexical candidates of a terminology search (exact, full-text, trigram), of the transaction's organization.
-- Row-level security would keep the planner from using the GIN indexes (`@@` and `%` are not leakproof),
-- so this runs as the owner, restricted to `app.org_id` explicitly; the caller joins the ids back to
-- `terminology_entries`, where row-level security drops entries the user may not see (others' private ones).
CREATE FUNCTION aiops_term_candidates(p_query text, p_limit int)
RETURNS TABLE(id uuid, kind text, score double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH o AS (SELECT nullif(current_setting('app.org_id', true), '')::uuid AS org),
  ex AS (SELECT t.id, 'exact'::text AS kind, 1::float8 AS score FROM terminology_entries t, o
         WHERE t.organization_id = o.org AND lower(t.term) = lower(p_query) LIMIT p_limit),
  fts AS (SELECT t.id, 'fts'::text AS kind,
            ts_rank_cd(t.search_vector, websearch_to_tsquery('english', p_query), 32)::float8 AS score
          FROM terminology_entries t, o
          WHERE t.search_vector @@ websearch_to_tsquery('english', p_query) AND t.organization_id = o.org
          ORDER BY score DESC LIMIT p_limit),
  trg AS (SELECT t.id, 'trgm'::text AS kind, similarity(lower(t.term), lower(p_query))::float8 AS score
          FROM terminology_entries t, o
          WHERE lower(t.term) % lower(p_query) AND t.organization_id = o.org
          ORDER BY score DESC LIMIT p_limit)
  SELECT * FROM ex UNION ALL SELECT * FROM fts UNION ALL SELECT * FROM trg
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_term_candidates(text, int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_term_candidates(text, int) TO aiops_app;
--> statement-breakpoint
-- A version of the organization's dictionary (count and newest change), read before every semantic search
-- to know whether the in-process vector cache is stale; as the owner, so it is the same for every user.
CREATE FUNCTION aiops_term_version()
RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT count(*)::text || ':' || coalesce(max(updated_at)::text, '')
  FROM terminology_entries WHERE organization_id = nullif(current_setting('app.org_id', true), '')::uuid
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_term_version() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_term_version() TO aiops_app;
