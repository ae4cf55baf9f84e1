CREATE TABLE "memory_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"thread_key" varchar(500) NOT NULL,
	"role" varchar(20) NOT NULL,
	"content" text NOT NULL,
	"source" varchar(300),
	"run_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memory_messages_role_check" CHECK ("memory_messages"."role" in ('user', 'assistant'))
);
--> statement-breakpoint
ALTER TABLE "memory_messages" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "model_prices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"model" varchar(255) NOT NULL,
	"effective_from" varchar(10) NOT NULL,
	"effective_to" varchar(10),
	"input" varchar(40) NOT NULL,
	"output" varchar(40) NOT NULL,
	"cached_input" varchar(40),
	"cache_write" varchar(40),
	"reasoning" varchar(40),
	"per_request" varchar(40),
	"note" varchar(1000),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "model_prices" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "response_cache" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"key" varchar(64) NOT NULL,
	"answer" jsonb NOT NULL,
	"hits" integer DEFAULT 0 NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "response_cache" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "memory_messages" ADD CONSTRAINT "memory_messages_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "model_prices" ADD CONSTRAINT "model_prices_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "response_cache" ADD CONSTRAINT "response_cache_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_memory_messages_thread" ON "memory_messages" USING btree ("organization_id","thread_key","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "memory_messages_source_key" ON "memory_messages" USING btree ("organization_id","source","role");--> statement-breakpoint
CREATE UNIQUE INDEX "model_prices_org_model_from_key" ON "model_prices" USING btree ("organization_id","model","effective_from");--> statement-breakpoint
CREATE UNIQUE INDEX "response_cache_key" ON "response_cache" USING btree ("organization_id","key");--> statement-breakpoint
CREATE INDEX "idx_response_cache_expires" ON "response_cache" USING btree ("expires_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "memory_messages" AS PERMISSIVE FOR ALL TO public USING ("memory_messages"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("memory_messages"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "model_prices" AS PERMISSIVE FOR ALL TO public USING ("model_prices"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("model_prices"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "response_cache" AS PERMISSIVE FOR ALL TO public USING ("response_cache"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("response_cache"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);