CREATE TABLE "model_aliases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"alias" varchar(100) NOT NULL,
	"targets" jsonb NOT NULL,
	"cache_ttl_seconds" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "model_aliases_cache_ttl_check" CHECK ("model_aliases"."cache_ttl_seconds" IS NULL OR "model_aliases"."cache_ttl_seconds" > 0)
);
--> statement-breakpoint
ALTER TABLE "model_aliases" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "model_aliases" ADD CONSTRAINT "model_aliases_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "model_aliases_org_alias" ON "model_aliases" USING btree ("organization_id","alias");--> statement-breakpoint
CREATE INDEX "idx_model_aliases_org" ON "model_aliases" USING btree ("organization_id");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "model_aliases" AS PERMISSIVE FOR ALL TO public USING ("model_aliases"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("model_aliases"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "model_aliases" TO aiops_app;
