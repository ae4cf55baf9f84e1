ALTER TABLE "agents" ADD COLUMN "schedule_timezone" varchar(64);--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "schedule_enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "schedule_next_fire_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "schedule_last_fired_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "webhook_secret_encrypted" text;--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "webhook_secret_key_id" varchar(32);--> statement-breakpoint
ALTER TABLE "agents" ADD COLUMN "webhook_secret_hint" varchar(32);--> statement-breakpoint
ALTER TABLE "event_sinks" ADD COLUMN "previous_secret_encrypted" text;--> statement-breakpoint
ALTER TABLE "event_sinks" ADD COLUMN "previous_secret_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "trigger_firings" ADD COLUMN "attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "trigger_firings" ADD COLUMN "response_code" integer;--> statement-breakpoint
ALTER TABLE "trigger_firings" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "workflow_triggers" ADD COLUMN "rate_limit_per_minute" integer DEFAULT 600;--> statement-breakpoint
CREATE INDEX "idx_agents_schedule_due" ON "agents" USING btree ("schedule_next_fire_at") WHERE "agents"."schedule" is not null and "agents"."schedule_enabled" and "agents"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "idx_firings_agent_due" ON "trigger_firings" USING btree ("next_attempt_at") WHERE "trigger_firings"."agent_id" is not null and "trigger_firings"."status" = 'starting';--> statement-breakpoint
ALTER TABLE "workflow_triggers" ADD CONSTRAINT "workflow_triggers_rate_limit_check" CHECK ("workflow_triggers"."rate_limit_per_minute" is null or "workflow_triggers"."rate_limit_per_minute" > 0);--> statement-breakpoint
-- Agent schedules (issue 15): a change of an agent's cron or time zone through any path (the agents API
-- too) resets the schedule's cursor unless the same update sets it; the scheduler sets a null cursor to
-- the next due time on its next pass.
CREATE OR REPLACE FUNCTION aiops_agent_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.schedule IS DISTINCT FROM OLD.schedule OR NEW.schedule_timezone IS DISTINCT FROM OLD.schedule_timezone)
     AND NEW.schedule_next_fire_at IS NOT DISTINCT FROM OLD.schedule_next_fire_at THEN
    NEW.schedule_next_fire_at := NULL;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER agents_schedule_changed BEFORE UPDATE OF schedule, schedule_timezone ON agents
  FOR EACH ROW EXECUTE FUNCTION aiops_agent_schedule_changed();
--> statement-breakpoint
-- Every server process caches webhook triggers by hook id; a change of what a webhook request depends on
-- (or a deletion) fires a NOTIFY on aiops_triggers, and each process drops its cache (the schedules'
-- cursor updates do not).
CREATE OR REPLACE FUNCTION aiops_notify_triggers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiops_triggers', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER workflow_triggers_changed AFTER UPDATE OF enabled, hook_id, workflow_id, organization_id,
  webhook_auth, secret_encrypted, webhook_mode, sync_timeout_ms, rate_limit_per_minute,
  max_concurrent_executions, overflow, input_mapping, trigger_type OR DELETE ON workflow_triggers
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_triggers();
--> statement-breakpoint
-- The live event stream (GET /events/stream) wakes on a NOTIFY on aiops_outbox carrying the organization
-- id (PostgreSQL sends one per transaction and organization: equal notifications are folded).
CREATE OR REPLACE FUNCTION aiops_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiops_outbox', NEW.organization_id::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
  FOR EACH ROW EXECUTE FUNCTION aiops_notify_outbox();
