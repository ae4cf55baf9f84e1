CREATE TABLE "agent_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"version_number" integer NOT NULL,
	"version" varchar(20) NOT NULL,
	"name" varchar(255) NOT NULL,
	"kind" varchar(20) NOT NULL,
	"configuration" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"kind" varchar(20) DEFAULT 'llm' NOT NULL,
	"type" varchar(20) DEFAULT 'specialist' NOT NULL,
	"status" varchar(20) DEFAULT 'active' NOT NULL,
	"framework" varchar(20),
	"version" varchar(20) DEFAULT '1.0.0' NOT NULL,
	"version_number" integer DEFAULT 1 NOT NULL,
	"configuration" jsonb NOT NULL,
	"model_name" varchar(255) NOT NULL,
	"temperature" real,
	"max_tokens" integer,
	"tools" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"tool_configs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"memory_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"cost_limit_per_request" numeric(12, 6),
	"enabled" boolean DEFAULT true NOT NULL,
	"webhook_url" text,
	"schedule" varchar(255),
	"last_heartbeat_at" timestamp with time zone,
	"resource_limits" jsonb,
	"deployed_at" timestamp with time zone,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_by" uuid,
	"updated_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "agents_kind_check" CHECK ("agents"."kind" in ('llm', 'code', 'external')),
	CONSTRAINT "agents_type_check" CHECK ("agents"."type" in ('coordinator', 'specialist', 'analyzer', 'custom')),
	CONSTRAINT "agents_status_check" CHECK ("agents"."status" in ('draft', 'active', 'inactive', 'error')),
	CONSTRAINT "agents_framework_check" CHECK ("agents"."framework" is null or "agents"."framework" in ('langgraph', 'agno', 'crewai', 'n8n', 'custom'))
);
--> statement-breakpoint
ALTER TABLE "agents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agent_executions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"workflow_execution_id" uuid NOT NULL,
	"node_id" varchar(64) NOT NULL,
	"node_type" varchar(20) NOT NULL,
	"agent_id" uuid,
	"agent_version" integer,
	"attempt" integer NOT NULL,
	"status" varchar(20) NOT NULL,
	"status_reason" text,
	"input" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"output" jsonb,
	"model" varchar(255),
	"queued_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_ms" integer,
	"input_tokens" integer DEFAULT 0 NOT NULL,
	"output_tokens" integer DEFAULT 0 NOT NULL,
	"cached_input_tokens" integer DEFAULT 0 NOT NULL,
	"reasoning_tokens" integer DEFAULT 0 NOT NULL,
	"total_tokens" integer DEFAULT 0 NOT NULL,
	"tokens_estimated" boolean DEFAULT false NOT NULL,
	"estimated_cost" numeric(14, 6) DEFAULT '0' NOT NULL,
	"cached" boolean DEFAULT false NOT NULL,
	"trace_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error_details" jsonb,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"worker_id" varchar(100),
	"parent_agent_execution_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_executions_status_check" CHECK ("agent_executions"."status" in ('running', 'completed', 'failed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "agent_executions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "run_steps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"node_id" varchar(64) NOT NULL,
	"status" varchar(20) NOT NULL,
	"pending_inputs" integer NOT NULL,
	"live_inputs" integer DEFAULT 0 NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" varchar(100),
	"lease_expires_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"output" jsonb,
	"error" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "run_steps_status_check" CHECK ("run_steps"."status" in ('pending', 'ready', 'running', 'completed', 'failed', 'skipped', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "run_steps" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "workflow_executions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"workflow_id" uuid NOT NULL,
	"workflow_version" integer NOT NULL,
	"status" varchar(20) DEFAULT 'queued' NOT NULL,
	"status_reason" text,
	"error_code" varchar(50),
	"error_message" text,
	"triggered_by" varchar(20) DEFAULT 'manual' NOT NULL,
	"triggered_by_user_id" uuid,
	"triggered_by_api_key_id" uuid,
	"external_trigger_id" varchar(255),
	"input_data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"output_data" jsonb,
	"agent_pins" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"remaining_nodes" integer NOT NULL,
	"steps_total" integer NOT NULL,
	"steps_completed" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"paused_at" timestamp with time zone,
	"resumed_at" timestamp with time zone,
	"timeout_at" timestamp with time zone,
	"duration_ms" integer,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens_used" bigint DEFAULT 0 NOT NULL,
	"estimated_cost" numeric(14, 6) DEFAULT '0' NOT NULL,
	"retry_count" integer DEFAULT 0 NOT NULL,
	"max_retries" integer DEFAULT 3 NOT NULL,
	"correlation_id" uuid NOT NULL,
	"parent_execution_id" uuid,
	"idempotency_key" varchar(255),
	"resource_usage" jsonb,
	"performance_metrics" jsonb,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "workflow_executions_status_check" CHECK ("workflow_executions"."status" in ('queued', 'pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'timeout')),
	CONSTRAINT "workflow_executions_triggered_by_check" CHECK ("workflow_executions"."triggered_by" in ('manual', 'schedule', 'webhook', 'api', 'internal', 'event'))
);
--> statement-breakpoint
ALTER TABLE "workflow_executions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "workflow_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"workflow_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"definition" jsonb NOT NULL,
	"change_note" text,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "workflow_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "workflows" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"version" integer DEFAULT 1 NOT NULL,
	"status" varchar(20) DEFAULT 'draft' NOT NULL,
	"definition" jsonb NOT NULL,
	"workflow_type" varchar(20) DEFAULT 'visual' NOT NULL,
	"execution_timeout" integer DEFAULT 3600 NOT NULL,
	"max_retries" integer DEFAULT 3 NOT NULL,
	"error_handling" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"total_executions" integer DEFAULT 0 NOT NULL,
	"successful_executions" integer DEFAULT 0 NOT NULL,
	"failed_executions" integer DEFAULT 0 NOT NULL,
	"average_duration" double precision,
	"average_cost" numeric(14, 6),
	"last_run_at" timestamp with time zone,
	"last_run_status" varchar(20),
	"created_by" uuid,
	"updated_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "workflows_status_check" CHECK ("workflows"."status" in ('draft', 'active', 'paused', 'archived')),
	CONSTRAINT "workflows_type_check" CHECK ("workflows"."workflow_type" in ('visual', 'code')),
	CONSTRAINT "workflows_timeout_check" CHECK ("workflows"."execution_timeout" > 0)
);
--> statement-breakpoint
ALTER TABLE "workflows" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_versions" ADD CONSTRAINT "agent_versions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_versions" ADD CONSTRAINT "agent_versions_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_versions" ADD CONSTRAINT "agent_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_executions" ADD CONSTRAINT "agent_executions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_executions" ADD CONSTRAINT "agent_executions_workflow_execution_id_workflow_executions_id_fk" FOREIGN KEY ("workflow_execution_id") REFERENCES "public"."workflow_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_run_id_workflow_executions_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."workflow_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD CONSTRAINT "workflow_executions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD CONSTRAINT "workflow_executions_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD CONSTRAINT "workflow_executions_triggered_by_user_id_users_id_fk" FOREIGN KEY ("triggered_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD CONSTRAINT "workflow_executions_triggered_by_api_key_id_api_keys_id_fk" FOREIGN KEY ("triggered_by_api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_versions" ADD CONSTRAINT "workflow_versions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_versions" ADD CONSTRAINT "workflow_versions_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflow_versions" ADD CONSTRAINT "workflow_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agent_versions_agent_version_key" ON "agent_versions" USING btree ("agent_id","version_number");--> statement-breakpoint
CREATE INDEX "idx_agent_versions_org" ON "agent_versions" USING btree ("organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "agents_org_name_key" ON "agents" USING btree ("organization_id","name") WHERE "agents"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "idx_agents_org" ON "agents" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_agents_type" ON "agents" USING btree ("type");--> statement-breakpoint
CREATE INDEX "idx_agents_status" ON "agents" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_agents_name_trgm" ON "agents" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "idx_agent_executions_run" ON "agent_executions" USING btree ("workflow_execution_id","node_id","attempt");--> statement-breakpoint
CREATE INDEX "idx_agent_executions_agent" ON "agent_executions" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "idx_agent_executions_status" ON "agent_executions" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "run_steps_run_node_key" ON "run_steps" USING btree ("run_id","node_id");--> statement-breakpoint
CREATE INDEX "idx_run_steps_ready" ON "run_steps" USING btree ("available_at") WHERE "run_steps"."status" = 'ready';--> statement-breakpoint
CREATE INDEX "idx_run_steps_leases" ON "run_steps" USING btree ("lease_expires_at") WHERE "run_steps"."status" = 'running';--> statement-breakpoint
CREATE INDEX "idx_executions_org_created" ON "workflow_executions" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_executions_workflow" ON "workflow_executions" USING btree ("workflow_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_executions_status" ON "workflow_executions" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_executions_correlation" ON "workflow_executions" USING btree ("correlation_id");--> statement-breakpoint
CREATE INDEX "idx_executions_started" ON "workflow_executions" USING btree ("started_at");--> statement-breakpoint
CREATE INDEX "idx_executions_parent" ON "workflow_executions" USING btree ("parent_execution_id");--> statement-breakpoint
CREATE INDEX "idx_executions_timeout" ON "workflow_executions" USING btree ("timeout_at") WHERE "workflow_executions"."status" in ('queued', 'pending', 'running', 'paused');--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_executions_idempotency_key" ON "workflow_executions" USING btree ("organization_id","idempotency_key");--> statement-breakpoint
CREATE UNIQUE INDEX "workflow_versions_workflow_version_key" ON "workflow_versions" USING btree ("workflow_id","version");--> statement-breakpoint
CREATE INDEX "idx_workflow_versions_org" ON "workflow_versions" USING btree ("organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "workflows_org_name_key" ON "workflows" USING btree ("organization_id","name") WHERE "workflows"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "idx_workflows_org_created" ON "workflows" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_workflows_status" ON "workflows" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_workflows_name_trgm" ON "workflows" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_versions" AS PERMISSIVE FOR ALL TO public USING ("agent_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agents" AS PERMISSIVE FOR ALL TO public USING ("agents"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agents"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_executions" AS PERMISSIVE FOR ALL TO public USING ("agent_executions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_executions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "run_steps" AS PERMISSIVE FOR ALL TO public USING ("run_steps"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("run_steps"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "workflow_executions" AS PERMISSIVE FOR ALL TO public USING ("workflow_executions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("workflow_executions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "workflow_versions" AS PERMISSIVE FOR ALL TO public USING ("workflow_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("workflow_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "workflows" AS PERMISSIVE FOR ALL TO public USING ("workflows"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("workflows"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);