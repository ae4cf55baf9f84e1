CREATE TABLE "integrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"category" varchar(30) DEFAULT 'llm_provider' NOT NULL,
	"provider" varchar(50) NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"credentials_encrypted" text,
	"credentials_key_id" varchar(32),
	"credential_hint" varchar(32),
	"is_default" boolean DEFAULT false NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"last_error" text,
	"last_tested_at" timestamp with time zone,
	"connected_at" timestamp with time zone,
	"last_sync_at" timestamp with time zone,
	"total_requests" bigint DEFAULT 0 NOT NULL,
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"total_tokens" bigint DEFAULT 0 NOT NULL,
	"total_cost" numeric(20, 12) DEFAULT '0' NOT NULL,
	"last_used_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integrations_category_check" CHECK ("integrations"."category" in ('llm_provider', 'tool', 'notification', 'sync')),
	CONSTRAINT "integrations_status_check" CHECK ("integrations"."status" in ('pending', 'connected', 'disconnected', 'error'))
);
--> statement-breakpoint
ALTER TABLE "integrations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "integrations" ADD CONSTRAINT "integrations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integrations" ADD CONSTRAINT "integrations_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "integrations_org_name_key" ON "integrations" USING btree ("organization_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "integrations_one_default_per_provider" ON "integrations" USING btree ("organization_id","provider") WHERE "integrations"."is_default";--> statement-breakpoint
CREATE INDEX "idx_integrations_org_provider" ON "integrations" USING btree ("organization_id","provider");--> statement-breakpoint
CREATE INDEX "idx_integrations_status" ON "integrations" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_integrations_key_id" ON "integrations" USING btree ("credentials_key_id");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "integrations" AS PERMISSIVE FOR ALL TO public USING ("integrations"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("integrations"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);