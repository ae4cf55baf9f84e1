CREATE TABLE "organization_config" (
	"organization_id" uuid NOT NULL,
	"layer" varchar(10) NOT NULL,
	"key" varchar(100) NOT NULL,
	"value" jsonb NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organization_config_organization_id_layer_key_pk" PRIMARY KEY("organization_id","layer","key"),
	CONSTRAINT "organization_config_layer_check" CHECK ("organization_config"."layer" IN ('operator', 'owner'))
);
--> statement-breakpoint
ALTER TABLE "organization_config" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "platform_admins" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "platform_audit_logs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"user_id" uuid,
	"action" varchar(100) NOT NULL,
	"key" varchar(100) NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"request_id" varchar(64),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "platform_config" (
	"key" varchar(100) PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organization_config" ADD CONSTRAINT "organization_config_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organization_config" ADD CONSTRAINT "organization_config_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_admins" ADD CONSTRAINT "platform_admins_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_audit_logs" ADD CONSTRAINT "platform_audit_logs_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_config" ADD CONSTRAINT "platform_config_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_platform_audit_logs_created" ON "platform_audit_logs" USING btree ("created_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "organization_config" AS PERMISSIVE FOR ALL TO public USING ("organization_config"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("organization_config"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "organization_config_owner_insert" ON "organization_config" AS RESTRICTIVE FOR INSERT TO public WITH CHECK ("organization_config"."layer" = 'owner');--> statement-breakpoint
CREATE POLICY "organization_config_owner_update" ON "organization_config" AS RESTRICTIVE FOR UPDATE TO public USING ("organization_config"."layer" = 'owner') WITH CHECK ("organization_config"."layer" = 'owner');--> statement-breakpoint
CREATE POLICY "organization_config_owner_delete" ON "organization_config" AS RESTRICTIVE FOR DELETE TO public USING ("organization_config"."layer" = 'owner');--> statement-breakpoint
-- Owners' and operators' per-organization overrides: read and written in the tenant's transaction.
GRANT SELECT, INSERT, UPDATE, DELETE ON "organization_config" TO aiops_app;
--> statement-breakpoint
-- Global configuration, the platform admins and their audit trail are not tenant data: the application
-- role has no access at all (the server reads and writes them in db.system; the CLI grants admins).
REVOKE ALL ON "platform_config", "platform_admins", "platform_audit_logs" FROM aiops_app;
--> statement-breakpoint
REVOKE ALL ON SEQUENCE "platform_audit_logs_id_seq" FROM aiops_app;
--> statement-breakpoint
-- Every process keeps the configuration in memory; any change NOTIFYs aiops_config and each process
-- reloads it (delivered at commit, so a reload sees the change).
CREATE OR REPLACE FUNCTION aiops_notify_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiops_config', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER platform_config_changed AFTER INSERT OR UPDATE OR DELETE ON platform_config
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_config();
--> statement-breakpoint
CREATE TRIGGER organization_config_changed AFTER INSERT OR UPDATE OR DELETE ON organization_config
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_config();
