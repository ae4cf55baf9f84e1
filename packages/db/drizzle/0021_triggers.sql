CREATE TABLE "event_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"sink_id" uuid NOT NULL,
	"outbox_id" uuid NOT NULL,
	"event_type" varchar(100) NOT NULL,
	"status" varchar(10) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"response_code" integer,
	"last_error" text,
	"duration_ms" bigint,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_deliveries_status_check" CHECK ("event_deliveries"."status" in ('pending', 'delivered', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "event_deliveries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "event_outbox" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"organization_id" uuid NOT NULL,
	"type" varchar(100) NOT NULL,
	"subject_id" uuid,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"dispatched_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "event_outbox" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "event_sinks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"kind" varchar(10) NOT NULL,
	"event_types" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"url" text,
	"secret_encrypted" text,
	"secret_key_id" varchar(32),
	"secret_hint" varchar(32),
	"subject_prefix" varchar(100),
	"enabled" boolean DEFAULT true NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"disabled_reason" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_sinks_kind_check" CHECK ("event_sinks"."kind" in ('webhook', 'nats'))
);
--> statement-breakpoint
ALTER TABLE "event_sinks" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"external_id" varchar(255) NOT NULL,
	"type" varchar(255) NOT NULL,
	"source" varchar(255) NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"triggers_matched" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "trigger_firings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"trigger_id" uuid,
	"agent_id" uuid,
	"workflow_id" uuid,
	"status" varchar(10) NOT NULL,
	"reason" text,
	"due_at" timestamp with time zone,
	"event_id" uuid,
	"delivery_id" varchar(255),
	"run_id" uuid,
	"payload" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trigger_firings_status_check" CHECK ("trigger_firings"."status" in ('starting', 'started', 'queued', 'done', 'skipped', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "trigger_firings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "workflow_triggers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"workflow_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"trigger_type" varchar(20) NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"max_concurrent_executions" integer DEFAULT 1,
	"overflow" varchar(10) DEFAULT 'queue' NOT NULL,
	"input_mapping" jsonb,
	"schedule_cron" varchar(255),
	"timezone" varchar(64),
	"missed_fire_policy" varchar(10) DEFAULT 'skip' NOT NULL,
	"catch_up_limit" integer DEFAULT 10 NOT NULL,
	"next_fire_at" timestamp with time zone,
	"last_fired_at" timestamp with time zone,
	"hook_id" varchar(64),
	"webhook_auth" varchar(10),
	"secret_encrypted" text,
	"secret_key_id" varchar(32),
	"secret_hint" varchar(32),
	"webhook_mode" varchar(10),
	"sync_timeout_ms" integer,
	"event_type" varchar(255),
	"event_source" varchar(255),
	"event_filter" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_triggers_type_check" CHECK ("workflow_triggers"."trigger_type" in ('schedule', 'webhook', 'event')),
	CONSTRAINT "workflow_triggers_overflow_check" CHECK ("workflow_triggers"."overflow" in ('queue', 'skip')),
	CONSTRAINT "workflow_triggers_missed_check" CHECK ("workflow_triggers"."missed_fire_policy" in ('skip', 'catchUp')),
	CONSTRAINT "workflow_triggers_max_concurrent_check" CHECK ("workflow_triggers"."max_concurrent_executions" is null or "workflow_triggers"."max_concurrent_executions" > 0)
);
--> statement-breakpoint
ALTER TABLE "workflow_triggers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "event_deliveries" ADD CONSTRAINT "event_deliveries_sink_id_event_sinks_id_fk" FOREIGN KEY ("sink_id") REFERENCES "public"."event_sinks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_deliveries" ADD CONSTRAINT "event_deliveries_outbox_id_event_outbox_id_fk" FOREIGN KEY ("outbox_id") REFERENCES "public"."event_outbox"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_sinks" ADD CONSTRAINT "event_sinks_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event_sinks" ADD CONSTRAINT "event_sinks_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trigger_firings" ADD CONSTRAINT "trigger_firings_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trigger_firings" ADD CONSTRAINT "trigger_firings_trigger_id_workflow_triggers_id_fk" FOREIGN KEY ("trigger_id") REFERENCES "public"."workflow_triggers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trigger_firings" ADD CONSTRAINT "trigger_firings_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_triggers" ADD CONSTRAINT "workflow_triggers_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_triggers" ADD CONSTRAINT "workflow_triggers_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_triggers" ADD CONSTRAINT "workflow_triggers_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "event_deliveries_sink_outbox_key" ON "event_deliveries" USING btree ("sink_id","outbox_id");--> statement-breakpoint
CREATE INDEX "idx_deliveries_due" ON "event_deliveries" USING btree ("next_attempt_at") WHERE "event_deliveries"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "idx_deliveries_sink" ON "event_deliveries" USING btree ("sink_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "event_outbox_seq_key" ON "event_outbox" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "idx_outbox_undispatched" ON "event_outbox" USING btree ("seq") WHERE "event_outbox"."dispatched_at" is null;--> statement-breakpoint
CREATE INDEX "idx_outbox_org_seq" ON "event_outbox" USING btree ("organization_id","seq");--> statement-breakpoint
CREATE INDEX "idx_sinks_org" ON "event_sinks" USING btree ("organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "events_org_external_id_key" ON "events" USING btree ("organization_id","external_id");--> statement-breakpoint
CREATE INDEX "idx_events_org_received" ON "events" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "trigger_firings_due_key" ON "trigger_firings" USING btree ("trigger_id","due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "trigger_firings_agent_due_key" ON "trigger_firings" USING btree ("agent_id","due_at");--> statement-breakpoint
CREATE UNIQUE INDEX "trigger_firings_delivery_key" ON "trigger_firings" USING btree ("trigger_id","delivery_id");--> statement-breakpoint
CREATE INDEX "idx_firings_trigger" ON "trigger_firings" USING btree ("trigger_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_firings_active" ON "trigger_firings" USING btree ("trigger_id","created_at") WHERE "trigger_firings"."status" in ('starting', 'started', 'queued');--> statement-breakpoint
CREATE INDEX "idx_firings_event" ON "trigger_firings" USING btree ("event_id") WHERE "trigger_firings"."event_id" is not null;--> statement-breakpoint
CREATE INDEX "idx_firings_run" ON "trigger_firings" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "idx_triggers_workflow" ON "workflow_triggers" USING btree ("workflow_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_triggers_hook_id_key" ON "workflow_triggers" USING btree ("hook_id");--> statement-breakpoint
CREATE INDEX "idx_triggers_due" ON "workflow_triggers" USING btree ("next_fire_at") WHERE "workflow_triggers"."trigger_type" = 'schedule' and "workflow_triggers"."enabled";--> statement-breakpoint
CREATE INDEX "idx_triggers_event" ON "workflow_triggers" USING btree ("organization_id","event_type") WHERE "workflow_triggers"."trigger_type" = 'event';--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "event_deliveries" AS PERMISSIVE FOR ALL TO public USING ("event_deliveries"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("event_deliveries"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "event_outbox" AS PERMISSIVE FOR ALL TO public USING ("event_outbox"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("event_outbox"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "event_sinks" AS PERMISSIVE FOR ALL TO public USING ("event_sinks"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("event_sinks"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "events" AS PERMISSIVE FOR ALL TO public USING ("events"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("events"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "trigger_firings" AS PERMISSIVE FOR ALL TO public USING ("trigger_firings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("trigger_firings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "workflow_triggers" AS PERMISSIVE FOR ALL TO public USING ("workflow_triggers"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("workflow_triggers"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Outbound events (issue 15): written by these triggers in the transaction of the change itself, so an
-- event exists exactly when its change committed. SECURITY DEFINER: the engine's worker writes runs with no
-- tenant set, and the outbox row must be written whatever the caller's row-level security allows.
CREATE OR REPLACE FUNCTION aiops_outbox_run() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_type text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    v_type := CASE WHEN NEW.status = 'queued' THEN 'run.queued' ELSE 'workflow_started' END;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    v_type := CASE
      WHEN NEW.status IN ('completed', 'failed', 'cancelled', 'timeout') THEN 'workflow_finished'
      WHEN NEW.status = 'paused' THEN 'run.paused'
      WHEN OLD.status = 'paused' THEN 'run.resumed'
      WHEN OLD.status = 'queued' AND NEW.status = 'pending' THEN 'workflow_started'
      ELSE NULL END;
  END IF;
  IF v_type IS NULL THEN RETURN NULL; END IF;
  INSERT INTO event_outbox (organization_id, type, subject_id, payload)
  VALUES (NEW.organization_id, v_type, NEW.id, jsonb_strip_nulls(jsonb_build_object(
    'runId', NEW.id, 'workflowId', NEW.workflow_id, 'workflowVersion', NEW.workflow_version,
    'status', NEW.status, 'triggeredBy', NEW.triggered_by, 'externalTriggerId', NEW.external_trigger_id,
    'correlationId', NEW.correlation_id, 'durationMs', NEW.duration_ms,
    'errorCode', NEW.error_code, 'errorMessage', left(NEW.error_message, 1000),
    'totalTokens', CASE WHEN v_type = 'workflow_finished' THEN NEW.total_tokens_used END,
    'estimatedCost', CASE WHEN v_type = 'workflow_finished' THEN NEW.estimated_cost END)));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER aiops_outbox_run AFTER INSERT OR UPDATE OF status ON workflow_executions
  FOR EACH ROW EXECUTE FUNCTION aiops_outbox_run();
--> statement-breakpoint
-- Step attempts: agent nodes give seed 003's agent_task_completed / agent_task_failed; every attempt gives
-- step.completed / step.failed only for organizations with a sink that asks for step events.
CREATE OR REPLACE FUNCTION aiops_outbox_step() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_payload jsonb;
BEGIN
  IF NEW.status NOT IN ('completed', 'failed') THEN RETURN NULL; END IF;
  v_payload := jsonb_strip_nulls(jsonb_build_object(
    'runId', NEW.workflow_execution_id, 'nodeId', NEW.node_id, 'nodeType', NEW.node_type,
    'agentId', NEW.agent_id, 'agentVersion', NEW.agent_version, 'attempt', NEW.attempt, 'status', NEW.status,
    'durationMs', NEW.duration_ms, 'totalTokens', NEW.total_tokens, 'estimatedCost', NEW.estimated_cost,
    'model', NEW.model, 'error', NEW.error_details));
  IF NEW.node_type = 'agent' THEN
    INSERT INTO event_outbox (organization_id, type, subject_id, payload)
    VALUES (NEW.organization_id, 'agent_task_' || NEW.status, NEW.workflow_execution_id, v_payload);
  END IF;
  IF EXISTS (SELECT 1 FROM event_sinks s WHERE s.organization_id = NEW.organization_id AND s.enabled
             AND s.event_types ?| ARRAY['step.*', 'step.completed', 'step.failed']) THEN
    INSERT INTO event_outbox (organization_id, type, subject_id, payload)
    VALUES (NEW.organization_id, 'step.' || NEW.status, NEW.workflow_execution_id, v_payload);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER aiops_outbox_step AFTER INSERT ON agent_executions
  FOR EACH ROW EXECUTE FUNCTION aiops_outbox_step();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aiops_outbox_workflow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO event_outbox (organization_id, type, subject_id, payload)
  VALUES (NEW.organization_id, 'workflow_created', NEW.id,
          jsonb_build_object('workflowId', NEW.id, 'name', NEW.name, 'status', NEW.status, 'createdBy', NEW.created_by));
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER aiops_outbox_workflow AFTER INSERT ON workflows
  FOR EACH ROW EXECUTE FUNCTION aiops_outbox_workflow();
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_outbox_run(), aiops_outbox_step(), aiops_outbox_workflow() FROM public;
