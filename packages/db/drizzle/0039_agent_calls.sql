CREATE TABLE "agent_calls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"source" varchar(20) NOT NULL,
	"conversation_message_id" uuid,
	"status" varchar(10) NOT NULL,
	"error_code" varchar(100),
	"model" varchar(255),
	"duration_ms" integer,
	"cost" numeric(14, 6) DEFAULT '0' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_calls_source_check" CHECK ("agent_calls"."source" in ('conversation', 'try')),
	CONSTRAINT "agent_calls_status_check" CHECK ("agent_calls"."status" in ('completed', 'failed')),
	CONSTRAINT "agent_calls_duration_check" CHECK ("agent_calls"."duration_ms" is null or "agent_calls"."duration_ms" >= 0)
);
--> statement-breakpoint
ALTER TABLE "agent_calls" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_calls" ADD CONSTRAINT "agent_calls_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_calls" ADD CONSTRAINT "agent_calls_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_calls" ADD CONSTRAINT "agent_calls_conversation_message_id_conversation_messages_id_fk" FOREIGN KEY ("conversation_message_id") REFERENCES "public"."conversation_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_agent_calls_agent" ON "agent_calls" USING btree ("agent_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_agent_calls_message" ON "agent_calls" USING btree ("conversation_message_id");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_calls" AS PERMISSIVE FOR ALL TO public USING ("agent_calls"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_calls"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);