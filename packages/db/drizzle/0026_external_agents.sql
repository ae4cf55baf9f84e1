CREATE TABLE "alert_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"agent_id" uuid,
	"condition" jsonb NOT NULL,
	"channels" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"slack_webhook_encrypted" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_rules" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"rule_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"status" varchar(20) DEFAULT 'open' NOT NULL,
	"triggered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "alerts_status_check" CHECK ("alerts"."status" in ('open', 'resolved'))
);
--> statement-breakpoint
ALTER TABLE "alerts" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agent_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"status" varchar(20) NOT NULL,
	"message" text,
	"details" jsonb,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"duration_ms" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_logs_status_check" CHECK ("agent_logs"."status" in ('success', 'error', 'warning')),
	CONSTRAINT "agent_logs_duration_check" CHECK ("agent_logs"."duration_ms" is null or "agent_logs"."duration_ms" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agent_logs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "external_agent_monitors" (
	"agent_id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"key_hash" varchar(64) NOT NULL,
	"key_prefix" varchar(16) NOT NULL,
	"expected_interval_seconds" integer DEFAULT 60 NOT NULL,
	"grace_seconds" integer DEFAULT 30 NOT NULL,
	"state" varchar(20) DEFAULT 'unknown' NOT NULL,
	"state_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_heartbeat_at" timestamp with time zone,
	"reported_status" varchar(50),
	"reported_version" varchar(100),
	"metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "external_agent_monitors_state_check" CHECK ("external_agent_monitors"."state" in ('unknown', 'online', 'offline', 'error')),
	CONSTRAINT "external_agent_monitors_interval_check" CHECK ("external_agent_monitors"."expected_interval_seconds" between 5 and 86400),
	CONSTRAINT "external_agent_monitors_grace_check" CHECK ("external_agent_monitors"."grace_seconds" between 0 and 86400)
);
--> statement-breakpoint
ALTER TABLE "external_agent_monitors" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_rule_id_alert_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_logs" ADD CONSTRAINT "agent_logs_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_logs" ADD CONSTRAINT "agent_logs_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_agent_monitors" ADD CONSTRAINT "external_agent_monitors_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "external_agent_monitors" ADD CONSTRAINT "external_agent_monitors_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_alert_rules_org" ON "alert_rules" USING btree ("organization_id");--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_one_open_key" ON "alerts" USING btree ("rule_id","agent_id") WHERE "alerts"."status" = 'open';--> statement-breakpoint
CREATE INDEX "idx_alerts_org" ON "alerts" USING btree ("organization_id","triggered_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_agent_logs_agent" ON "agent_logs" USING btree ("agent_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_agent_logs_org" ON "agent_logs" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "external_agent_monitors_key_hash_key" ON "external_agent_monitors" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "idx_external_agent_monitors_due" ON "external_agent_monitors" USING btree ("state","last_heartbeat_at");--> statement-breakpoint
CREATE INDEX "idx_external_agent_monitors_org" ON "external_agent_monitors" USING btree ("organization_id");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "alert_rules" AS PERMISSIVE FOR ALL TO public USING ("alert_rules"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("alert_rules"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "alerts" AS PERMISSIVE FOR ALL TO public USING ("alerts"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("alerts"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_logs" AS PERMISSIVE FOR ALL TO public USING ("agent_logs"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_logs"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "external_agent_monitors" AS PERMISSIVE FOR ALL TO public USING ("external_agent_monitors"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("external_agent_monitors"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Issue 17: the app role reads and writes these tables under row-level security (default privileges grant
-- the same; said here so the grant is visible with the tables).
GRANT SELECT, INSERT, UPDATE, DELETE ON "agent_logs", "external_agent_monitors", "alert_rules", "alerts" TO aiops_app;
