CREATE TABLE "sync_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"target_id" uuid NOT NULL,
	"kind" varchar(10) DEFAULT 'batch' NOT NULL,
	"batch_id" varchar(100) NOT NULL,
	"event_count" integer NOT NULL,
	"first_seq" bigint,
	"last_seq" bigint,
	"attempt" integer NOT NULL,
	"ok" boolean NOT NULL,
	"response_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_deliveries_kind_check" CHECK ("sync_deliveries"."kind" in ('batch', 'test'))
);
--> statement-breakpoint
ALTER TABLE "sync_deliveries" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "sync_targets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"url" text NOT NULL,
	"api_key_encrypted" text,
	"api_key_key_id" varchar(32),
	"api_key_hint" varchar(32),
	"secret_encrypted" text NOT NULL,
	"secret_key_id" varchar(32) NOT NULL,
	"secret_hint" varchar(32) NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"event_types" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"interval_seconds" integer,
	"cron" varchar(100),
	"timezone" varchar(64) DEFAULT 'UTC' NOT NULL,
	"batch_size" integer DEFAULT 100 NOT NULL,
	"status" varchar(10) DEFAULT 'pending' NOT NULL,
	"last_sync_at" timestamp with time zone,
	"last_error" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"cursor_txid" "xid8" DEFAULT '0'::xid8 NOT NULL,
	"cursor_seq" bigint DEFAULT 0 NOT NULL,
	"generation" integer DEFAULT 0 NOT NULL,
	"next_sync_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_targets_status_check" CHECK ("sync_targets"."status" in ('pending', 'success', 'failed')),
	CONSTRAINT "sync_targets_schedule_check" CHECK (("sync_targets"."interval_seconds" IS NULL) <> ("sync_targets"."cron" IS NULL) AND coalesce("sync_targets"."interval_seconds", 1) > 0),
	CONSTRAINT "sync_targets_batch_check" CHECK ("sync_targets"."batch_size" between 1 and 1000)
);
--> statement-breakpoint
ALTER TABLE "sync_targets" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "event_outbox" ADD COLUMN "txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_deliveries" ADD CONSTRAINT "sync_deliveries_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_deliveries" ADD CONSTRAINT "sync_deliveries_target_id_sync_targets_id_fk" FOREIGN KEY ("target_id") REFERENCES "public"."sync_targets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_targets" ADD CONSTRAINT "sync_targets_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_targets" ADD CONSTRAINT "sync_targets_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_sync_deliveries_target" ON "sync_deliveries" USING btree ("target_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_sync_deliveries_created" ON "sync_deliveries" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "idx_sync_targets_due" ON "sync_targets" USING btree ("next_sync_at") WHERE "sync_targets"."enabled";--> statement-breakpoint
CREATE INDEX "idx_sync_targets_org" ON "sync_targets" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "idx_outbox_org_txid" ON "event_outbox" USING btree ("organization_id","txid","seq");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "sync_deliveries" AS PERMISSIVE FOR ALL TO public USING ("sync_deliveries"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("sync_deliveries"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "sync_targets" AS PERMISSIVE FOR ALL TO public USING ("sync_targets"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("sync_targets"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Issue 23 (outbound sync): the app role manages sync targets and their delivery log under row-level
-- security (default privileges grant the same; said here so the grant is visible with the tables).
GRANT SELECT, INSERT, UPDATE, DELETE ON "sync_targets", "sync_deliveries" TO aiops_app;
