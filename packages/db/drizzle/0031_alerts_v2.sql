CREATE TABLE "alert_notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"alert_id" uuid NOT NULL,
	"event" varchar(20) NOT NULL,
	"channel" varchar(10) NOT NULL,
	"target" varchar(254),
	"reason" text NOT NULL,
	"status" varchar(10) DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "alert_notifications_channel_check" CHECK ("alert_notifications"."channel" in ('email', 'slack', 'webhook')),
	CONSTRAINT "alert_notifications_event_check" CHECK ("alert_notifications"."event" in ('opened', 'reminder', 'acknowledged', 'resolved')),
	CONSTRAINT "alert_notifications_status_check" CHECK ("alert_notifications"."status" in ('pending', 'sent', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "alert_notifications" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "alerts" DROP CONSTRAINT "alerts_status_check";--> statement-breakpoint
DROP INDEX "alerts_one_open_key";--> statement-breakpoint
ALTER TABLE "alerts" ALTER COLUMN "agent_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "subject_type" varchar(20) DEFAULT 'agent' NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "workflow_id" uuid;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "severity" varchar(10) DEFAULT 'warning' NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "cooldown_minutes" integer DEFAULT 60 NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "webhook_url_encrypted" text;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "webhook_secret_encrypted" text;--> statement-breakpoint
-- Existing alerts are about agents: their subject is the agent.
ALTER TABLE "alerts" ADD COLUMN "subject_id" uuid;--> statement-breakpoint
UPDATE "alerts" SET "subject_id" = "agent_id";--> statement-breakpoint
ALTER TABLE "alerts" ALTER COLUMN "subject_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "workflow_id" uuid;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "acknowledged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "acknowledged_by" uuid;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "resolved_by" uuid;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "resolution_comment" text;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "last_notified_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_notifications" ADD CONSTRAINT "alert_notifications_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_notifications" ADD CONSTRAINT "alert_notifications_alert_id_alerts_id_fk" FOREIGN KEY ("alert_id") REFERENCES "public"."alerts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_alert_notifications_due" ON "alert_notifications" USING btree ("next_attempt_at") WHERE "alert_notifications"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "idx_alert_notifications_alert" ON "alert_notifications" USING btree ("alert_id");--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_workflow_id_workflows_id_fk" FOREIGN KEY ("workflow_id") REFERENCES "public"."workflows"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_acknowledged_by_users_id_fk" FOREIGN KEY ("acknowledged_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_resolved_by_users_id_fk" FOREIGN KEY ("resolved_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_alerts_unresolved" ON "alerts" USING btree ("last_notified_at") WHERE "alerts"."status" = 'open';--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_open_key" ON "alerts" USING btree ("rule_id","subject_id") WHERE "alerts"."status" in ('open', 'acknowledged');--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_subject_type_check" CHECK ("alert_rules"."subject_type" in ('agent', 'workflow', 'organization'));--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_severity_check" CHECK ("alert_rules"."severity" in ('info', 'warning', 'critical'));--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_cooldown_check" CHECK ("alert_rules"."cooldown_minutes" between 1 and 10080);--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_status_check" CHECK ("alerts"."status" in ('open', 'acknowledged', 'resolved'));--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "alert_notifications" AS PERMISSIVE FOR ALL TO public USING ("alert_notifications"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("alert_notifications"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Issue 17: the app role sends and records alert notifications under row-level security (default
-- privileges grant the same; said here so the grant is visible with the table).
GRANT SELECT, INSERT, UPDATE, DELETE ON "alert_notifications" TO aiops_app;
