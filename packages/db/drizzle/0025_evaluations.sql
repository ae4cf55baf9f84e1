CREATE TABLE "evaluation_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"evaluator_id" uuid NOT NULL,
	"workflow_execution_id" uuid NOT NULL,
	"agent_execution_id" uuid,
	"status" varchar(10) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"available_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evaluation_jobs_status_check" CHECK ("evaluation_jobs"."status" in ('pending', 'done', 'skipped', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "evaluation_jobs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "evaluation_results" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"workflow_execution_id" uuid NOT NULL,
	"agent_execution_id" uuid,
	"evaluator_id" uuid,
	"evaluator_name" varchar(255) NOT NULL,
	"evaluator_version" integer NOT NULL,
	"kind" varchar(10) NOT NULL,
	"score" numeric(5, 2) NOT NULL,
	"threshold" numeric(5, 2) NOT NULL,
	"passed" boolean NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"explanation" text,
	"cost_usd" numeric(14, 6) DEFAULT '0' NOT NULL,
	"source" varchar(10) NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evaluation_results_score_check" CHECK ("evaluation_results"."score" >= 0 and "evaluation_results"."score" <= 100),
	CONSTRAINT "evaluation_results_source_check" CHECK ("evaluation_results"."source" in ('online', 'on_demand'))
);
--> statement-breakpoint
ALTER TABLE "evaluation_results" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "evaluator_attachments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"evaluator_id" uuid NOT NULL,
	"workflow_id" uuid,
	"agent_id" uuid,
	"sampling_rate" numeric(4, 3) DEFAULT '1' NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "evaluator_attachments_target_check" CHECK (("evaluator_attachments"."workflow_id" is null) <> ("evaluator_attachments"."agent_id" is null)),
	CONSTRAINT "evaluator_attachments_sampling_check" CHECK ("evaluator_attachments"."sampling_rate" >= 0 and "evaluator_attachments"."sampling_rate" <= 1)
);
--> statement-breakpoint
ALTER TABLE "evaluator_attachments" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "evaluator_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"evaluator_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"kind" varchar(10) NOT NULL,
	"config" jsonb NOT NULL,
	"threshold" numeric(5, 2) NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "evaluator_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "evaluators" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"kind" varchar(10) NOT NULL,
	"config" jsonb NOT NULL,
	"threshold" numeric(5, 2) NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "evaluators_kind_check" CHECK ("evaluators"."kind" in ('rule', 'judge')),
	CONSTRAINT "evaluators_threshold_check" CHECK ("evaluators"."threshold" >= 0 and "evaluators"."threshold" <= 100)
);
--> statement-breakpoint
ALTER TABLE "evaluators" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "evaluation_jobs" ADD CONSTRAINT "evaluation_jobs_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_jobs" ADD CONSTRAINT "evaluation_jobs_evaluator_id_evaluators_id_fk" FOREIGN KEY ("evaluator_id") REFERENCES "public"."evaluators"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_jobs" ADD CONSTRAINT "evaluation_jobs_workflow_execution_id_workflow_executions_id_fk" FOREIGN KEY ("workflow_execution_id") REFERENCES "public"."workflow_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_jobs" ADD CONSTRAINT "evaluation_jobs_agent_execution_id_agent_executions_id_fk" FOREIGN KEY ("agent_execution_id") REFERENCES "public"."agent_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_results" ADD CONSTRAINT "evaluation_results_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_results" ADD CONSTRAINT "evaluation_results_workflow_execution_id_workflow_executions_id_fk" FOREIGN KEY ("workflow_execution_id") REFERENCES "public"."workflow_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_results" ADD CONSTRAINT "evaluation_results_agent_execution_id_agent_executions_id_fk" FOREIGN KEY ("agent_execution_id") REFERENCES "public"."agent_executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_results" ADD CONSTRAINT "evaluation_results_evaluator_id_evaluators_id_fk" FOREIGN KEY ("evaluator_id") REFERENCES "public"."evaluators"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluation_results" ADD CONSTRAINT "evaluation_results_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_attachments" ADD CONSTRAINT "evaluator_attachments_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_attachments" ADD CONSTRAINT "evaluator_attachments_evaluator_id_evaluators_id_fk" FOREIGN KEY ("evaluator_id") REFERENCES "public"."evaluators"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_attachments" ADD CONSTRAINT "evaluator_attachments_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_attachments" ADD CONSTRAINT "evaluator_attachments_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_attachments" ADD CONSTRAINT "evaluator_attachments_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_versions" ADD CONSTRAINT "evaluator_versions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_versions" ADD CONSTRAINT "evaluator_versions_evaluator_id_evaluators_id_fk" FOREIGN KEY ("evaluator_id") REFERENCES "public"."evaluators"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluator_versions" ADD CONSTRAINT "evaluator_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluators" ADD CONSTRAINT "evaluators_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "evaluators" ADD CONSTRAINT "evaluators_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "evaluation_jobs_key" ON "evaluation_jobs" USING btree ("evaluator_id","workflow_execution_id",coalesce("agent_execution_id", '00000000-0000-0000-0000-000000000000'::uuid));--> statement-breakpoint
CREATE INDEX "idx_evaluation_jobs_due" ON "evaluation_jobs" USING btree ("available_at") WHERE "evaluation_jobs"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "idx_evaluations_workflow_exec" ON "evaluation_results" USING btree ("workflow_execution_id");--> statement-breakpoint
CREATE INDEX "idx_evaluations_agent_exec" ON "evaluation_results" USING btree ("agent_execution_id");--> statement-breakpoint
CREATE INDEX "idx_evaluations_evaluator" ON "evaluation_results" USING btree ("organization_id","evaluator_name");--> statement-breakpoint
CREATE UNIQUE INDEX "evaluator_attachments_workflow_key" ON "evaluator_attachments" USING btree ("evaluator_id","workflow_id") WHERE "evaluator_attachments"."workflow_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "evaluator_attachments_agent_key" ON "evaluator_attachments" USING btree ("evaluator_id","agent_id") WHERE "evaluator_attachments"."agent_id" is not null;--> statement-breakpoint
CREATE INDEX "idx_evaluator_attachments_workflow" ON "evaluator_attachments" USING btree ("workflow_id");--> statement-breakpoint
CREATE INDEX "idx_evaluator_attachments_agent" ON "evaluator_attachments" USING btree ("agent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "evaluator_versions_key" ON "evaluator_versions" USING btree ("evaluator_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "evaluators_org_name_key" ON "evaluators" USING btree ("organization_id","name") WHERE "evaluators"."deleted_at" is null;--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "evaluation_jobs" AS PERMISSIVE FOR ALL TO public USING ("evaluation_jobs"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("evaluation_jobs"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "evaluation_results" AS PERMISSIVE FOR ALL TO public USING ("evaluation_results"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("evaluation_results"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "evaluator_attachments" AS PERMISSIVE FOR ALL TO public USING ("evaluator_attachments"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("evaluator_attachments"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "evaluator_versions" AS PERMISSIVE FOR ALL TO public USING ("evaluator_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("evaluator_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "evaluators" AS PERMISSIVE FOR ALL TO public USING ("evaluators"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("evaluators"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);