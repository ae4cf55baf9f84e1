ALTER TABLE "experiments" ADD COLUMN "agent_id" uuid;--> statement-breakpoint
ALTER TABLE "experiments" ADD COLUMN "agent_version" integer;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_experiments_agent" ON "experiments" USING btree ("agent_id","agent_version") WHERE "experiments"."agent_id" is not null;--> statement-breakpoint
ALTER TABLE "experiments" ADD CONSTRAINT "experiments_agent_check" CHECK (("experiments"."agent_id" is null) = ("experiments"."agent_version" is null));