DROP INDEX "learning_patterns_key";--> statement-breakpoint
-- The terminology GIN indexes are rebuilt without a pending list (fastupdate off; see the schema).
DROP INDEX "idx_terminology_search";--> statement-breakpoint
DROP INDEX "idx_terminology_term_trgm";--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "visibility" varchar(20) DEFAULT 'private' NOT NULL;--> statement-breakpoint
-- Conversations made before visibility existed were the whole organization's: they stay so (new ones are
-- private by default).
UPDATE "conversations" SET "visibility" = 'organization';--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "billing_started_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "idx_conversations_user" ON "conversations" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_learning_patterns_user" ON "learning_patterns" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_terminology_search" ON "terminology_entries" USING gin ("search_vector") WITH (fastupdate=false);--> statement-breakpoint
CREATE INDEX "idx_terminology_term_trgm" ON "terminology_entries" USING gin (lower("term") gin_trgm_ops) WITH (fastupdate=false);--> statement-breakpoint
ALTER TABLE "learning_patterns" ADD CONSTRAINT "learning_patterns_user_key" UNIQUE NULLS NOT DISTINCT("organization_id","user_id","pattern_type","key");--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_visibility_check" CHECK ("conversations"."visibility" in ('private', 'organization'));--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_private_author_check" CHECK ("conversations"."visibility" = 'organization' OR "conversations"."user_id" IS NOT NULL);--> statement-breakpoint
CREATE POLICY "conversation_message_visibility" ON "conversation_messages" AS RESTRICTIVE FOR ALL TO public USING (EXISTS (SELECT 1 FROM conversations c WHERE c.id = "conversation_messages"."conversation_id")) WITH CHECK (EXISTS (SELECT 1 FROM conversations c WHERE c.id = "conversation_messages"."conversation_id"));--> statement-breakpoint
CREATE POLICY "conversation_visibility" ON "conversations" AS RESTRICTIVE FOR ALL TO public USING ("conversations"."visibility" = 'organization' OR "conversations"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK ("conversations"."visibility" = 'organization' OR "conversations"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "learning_pattern_owner" ON "learning_patterns" AS RESTRICTIVE FOR ALL TO public USING ("learning_patterns"."user_id" IS NULL OR "learning_patterns"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK ("learning_patterns"."user_id" IS NULL OR "learning_patterns"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);--> statement-breakpoint
-- Organizations that existed before this migration began billing now (the column default filled them in):
-- the month-end job never invoices a period that ended before it.
COMMENT ON COLUMN "organizations"."billing_started_at" IS 'when billing began: creation, or this migration for older organizations';
--> statement-breakpoint
-- Every move of an organization's monthly reset date writes the audit row: the scheduled job's reset and
-- the engine's lazy one (the first run or model call of a month, in aiops_create_runs / aiops_add_org_cost)
-- alike. Whoever resets may say who it is in `app.monthly_reset_meta` (JSON); the engine says nothing.
CREATE FUNCTION aiops_audit_monthly_reset() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO audit_logs (organization_id, entity_type, entity_id, action, changes, metadata)
  VALUES (NEW.id, 'organization', NEW.id::text, 'monthly_reset',
    jsonb_build_object(
      'before', jsonb_build_object('monthlyExecutionsUsed', OLD.monthly_executions_used,
                                   'monthlyResetDate', OLD.monthly_reset_date),
      'after', jsonb_build_object('monthlyExecutionsUsed', NEW.monthly_executions_used,
                                  'monthlyResetDate', NEW.monthly_reset_date)),
    coalesce(nullif(current_setting('app.monthly_reset_meta', true), '')::jsonb,
             '{"by": "engine", "lazy": true}'::jsonb));
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER organizations_monthly_reset_audit AFTER UPDATE OF monthly_reset_date ON organizations
  FOR EACH ROW WHEN (OLD.monthly_reset_date IS DISTINCT FROM NEW.monthly_reset_date)
  EXECUTE FUNCTION aiops_audit_monthly_reset();
