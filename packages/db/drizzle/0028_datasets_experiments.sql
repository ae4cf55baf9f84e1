CREATE TABLE "dataset_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"dataset_id" uuid NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "dataset_items_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"input" jsonb NOT NULL,
	"expected_output" jsonb,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source_run_id" uuid,
	"added_in_version" integer NOT NULL,
	"removed_in_version" integer,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dataset_items" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "datasets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "datasets" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "experiment_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"experiment_id" uuid NOT NULL,
	"dataset_item_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"run_id" uuid,
	"status" varchar(10) DEFAULT 'pending' NOT NULL,
	"run_status" varchar(20),
	"output" jsonb,
	"scores" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"latency_ms" integer,
	"cost_usd" numeric(14, 6) DEFAULT '0' NOT NULL,
	"tokens" integer DEFAULT 0 NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "experiment_items_status_check" CHECK ("experiment_items"."status" in ('pending', 'running', 'scored'))
);
--> statement-breakpoint
ALTER TABLE "experiment_items" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "experiments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"dataset_id" uuid NOT NULL,
	"dataset_version" integer NOT NULL,
	"workflow_id" uuid NOT NULL,
	"workflow_version" integer NOT NULL,
	"evaluators" jsonb NOT NULL,
	"parallelism" integer DEFAULT 4 NOT NULL,
	"status" varchar(10) DEFAULT 'running' NOT NULL,
	"purpose" varchar(10) DEFAULT 'manual' NOT NULL,
	"total_items" integer NOT NULL,
	"done_items" integer DEFAULT 0 NOT NULL,
	"summary" jsonb,
	"lease_until" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "experiments_status_check" CHECK ("experiments"."status" in ('running', 'completed', 'cancelled')),
	CONSTRAINT "experiments_parallelism_check" CHECK ("experiments"."parallelism" between 1 and 32)
);
--> statement-breakpoint
ALTER TABLE "experiments" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "dataset_items" ADD CONSTRAINT "dataset_items_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_items" ADD CONSTRAINT "dataset_items_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_items" ADD CONSTRAINT "dataset_items_source_run_id_workflow_executions_id_fk" FOREIGN KEY ("source_run_id") REFERENCES "public"."workflow_executions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dataset_items" ADD CONSTRAINT "dataset_items_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "datasets" ADD CONSTRAINT "datasets_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_items" ADD CONSTRAINT "experiment_items_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_items" ADD CONSTRAINT "experiment_items_experiment_id_experiments_id_fk" FOREIGN KEY ("experiment_id") REFERENCES "public"."experiments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_items" ADD CONSTRAINT "experiment_items_dataset_item_id_dataset_items_id_fk" FOREIGN KEY ("dataset_item_id") REFERENCES "public"."dataset_items"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiment_items" ADD CONSTRAINT "experiment_items_run_id_workflow_executions_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."workflow_executions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_dataset_items_dataset" ON "dataset_items" USING btree ("dataset_id","added_in_version");--> statement-breakpoint
CREATE UNIQUE INDEX "datasets_org_name_key" ON "datasets" USING btree ("organization_id","name") WHERE "datasets"."deleted_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "experiment_items_key" ON "experiment_items" USING btree ("experiment_id","dataset_item_id");--> statement-breakpoint
CREATE INDEX "idx_experiment_items_status" ON "experiment_items" USING btree ("experiment_id","status");--> statement-breakpoint
CREATE INDEX "idx_experiments_org" ON "experiments" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "idx_experiments_workflow" ON "experiments" USING btree ("workflow_id","workflow_version");--> statement-breakpoint
CREATE INDEX "idx_experiments_due" ON "experiments" USING btree ("lease_until") WHERE "experiments"."status" = 'running';--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "dataset_items" AS PERMISSIVE FOR ALL TO public USING ("dataset_items"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("dataset_items"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "datasets" AS PERMISSIVE FOR ALL TO public USING ("datasets"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("datasets"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "experiment_items" AS PERMISSIVE FOR ALL TO public USING ("experiment_items"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("experiment_items"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "experiments" AS PERMISSIVE FOR ALL TO public USING ("experiments"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("experiments"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Issue 16: the app role reads and writes these tables under row-level security (default privileges grant
-- the same; said here so the grant is visible with the tables).
GRANT SELECT, INSERT, UPDATE, DELETE ON "datasets", "dataset_items", "experiments", "experiment_items" TO aiops_app;
