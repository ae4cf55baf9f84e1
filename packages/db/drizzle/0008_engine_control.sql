ALTER TABLE "run_steps" ADD COLUMN "wait" jsonb;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD COLUMN "parent_step_id" uuid;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD COLUMN "rerun_of_execution_id" uuid;--> statement-breakpoint
ALTER TABLE "workflow_executions" ADD COLUMN "concurrency_key" varchar(255);--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "max_concurrent_executions" integer;--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "concurrency_policy" varchar(10) DEFAULT 'queue' NOT NULL;--> statement-breakpoint
ALTER TABLE "workflows" ADD COLUMN "concurrency_key" text;--> statement-breakpoint
CREATE INDEX "idx_run_steps_waiting" ON "run_steps" USING btree ("available_at") WHERE "run_steps"."status" = 'waiting';--> statement-breakpoint
CREATE INDEX "idx_executions_queued" ON "workflow_executions" USING btree ("workflow_id","created_at") WHERE "workflow_executions"."status" = 'queued';--> statement-breakpoint
CREATE INDEX "idx_executions_active_key" ON "workflow_executions" USING btree ("workflow_id","concurrency_key") WHERE "workflow_executions"."status" in ('pending', 'running', 'paused');--> statement-breakpoint
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_concurrency_policy_check" CHECK ("workflows"."concurrency_policy" in ('queue', 'reject'));--> statement-breakpoint
ALTER TABLE "workflows" ADD CONSTRAINT "workflows_max_concurrent_check" CHECK ("workflows"."max_concurrent_executions" is null or "workflows"."max_concurrent_executions" > 0);--> statement-breakpoint
ALTER TABLE "run_steps" DROP CONSTRAINT "run_steps_status_check";--> statement-breakpoint
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_status_check" CHECK ("run_steps"."status" in ('pending', 'ready', 'running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled'));
