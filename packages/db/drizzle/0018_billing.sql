CREATE TABLE "invoice_sequences" (
	"year" integer PRIMARY KEY NOT NULL,
	"last_number" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"invoice_number" varchar(32) NOT NULL,
	"kind" varchar(20) DEFAULT 'invoice' NOT NULL,
	"credit_for" uuid,
	"status" varchar(20) DEFAULT 'draft' NOT NULL,
	"period_start" date NOT NULL,
	"period_end" date NOT NULL,
	"currency" varchar(3) DEFAULT 'USD' NOT NULL,
	"subtotal" numeric(12, 2) NOT NULL,
	"tax_rate" numeric(6, 4) DEFAULT '0' NOT NULL,
	"tax" numeric(12, 2) NOT NULL,
	"total" numeric(12, 2) NOT NULL,
	"tax_note" varchar(500),
	"issue_date" date NOT NULL,
	"due_date" date NOT NULL,
	"paid_date" date,
	"sent_at" timestamp with time zone,
	"line_items" jsonb NOT NULL,
	"billed_to" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"payment_provider" varchar(40),
	"payment_transaction_id" varchar(255),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "invoices_status_check" CHECK ("invoices"."status" in ('draft', 'sent', 'paid', 'overdue', 'cancelled')),
	CONSTRAINT "invoices_kind_check" CHECK ("invoices"."kind" in ('invoice', 'credit_note'))
);
--> statement-breakpoint
ALTER TABLE "invoices" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "tax_rates" (
	"country" varchar(2) NOT NULL,
	"name" varchar(60) NOT NULL,
	"rate" numeric(6, 4) NOT NULL,
	"reverse_charge" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tax_rates_country_pk" PRIMARY KEY("country")
);
--> statement-breakpoint
CREATE TABLE "usage_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"usage_type" varchar(40) NOT NULL,
	"quantity" bigint NOT NULL,
	"unit" varchar(20) NOT NULL,
	"unit_price" numeric(20, 12),
	"total_cost" numeric(14, 6) DEFAULT '0' NOT NULL,
	"period_start" date NOT NULL,
	"period_end" date NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resource_type" varchar(40),
	"resource_id" uuid,
	"workflow_id" uuid,
	"api_key_id" uuid,
	"model" varchar(255),
	"input_tokens" bigint DEFAULT 0 NOT NULL,
	"output_tokens" bigint DEFAULT 0 NOT NULL,
	"cached_tokens" bigint DEFAULT 0 NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"source_key" varchar(255) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_records_type_check" CHECK ("usage_records"."usage_type" in ('workflow_execution', 'tokens', 'api_call', 'conversation_message', 'storage', 'plan_change')),
	CONSTRAINT "usage_records_quantity_check" CHECK ("usage_records"."quantity" >= 0),
	CONSTRAINT "usage_records_cost_check" CHECK ("usage_records"."total_cost" >= 0)
);
--> statement-breakpoint
ALTER TABLE "usage_records" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "vat_id" varchar(32);--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_number_key" ON "invoices" USING btree ("invoice_number");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_org_period_key" ON "invoices" USING btree ("organization_id","period_start") WHERE "invoices"."kind" = 'invoice';--> statement-breakpoint
CREATE INDEX "idx_invoices_org" ON "invoices" USING btree ("organization_id","issue_date" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_invoices_status" ON "invoices" USING btree ("status","due_date");--> statement-breakpoint
CREATE UNIQUE INDEX "usage_records_source_key" ON "usage_records" USING btree ("organization_id","source_key");--> statement-breakpoint
CREATE INDEX "idx_usage_org_period" ON "usage_records" USING btree ("organization_id","period_start","usage_type");--> statement-breakpoint
CREATE INDEX "idx_usage_org_occurred" ON "usage_records" USING btree ("organization_id","occurred_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "invoices" AS PERMISSIVE FOR ALL TO public USING ("invoices"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("invoices"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "usage_records" AS PERMISSIVE FOR ALL TO public USING ("usage_records"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("usage_records"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- -- Billing (issue 20). The usage ledger is written in the same transaction as what it measures: runs and
-- model-call attempts by statement-level triggers on their tables (one INSERT … SELECT per statement, so
-- the engine's batched writes stay batched and its code is untouched). Each row has a source key unique per
-- organization; ON CONFLICT DO NOTHING makes every write idempotent.
CREATE OR REPLACE FUNCTION aiops_usage_runs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO usage_records (organization_id, usage_type, quantity, unit, period_start, period_end, occurred_at,
    resource_type, resource_id, workflow_id, api_key_id, details, source_key)
  SELECT r.organization_id, 'workflow_execution', 1, 'run',
    date_trunc('month', r.created_at AT TIME ZONE 'UTC')::date,
    (date_trunc('month', r.created_at AT TIME ZONE 'UTC') + interval '1 month - 1 day')::date,
    r.created_at, 'workflow_execution', r.id, r.workflow_id, r.triggered_by_api_key_id,
    jsonb_build_object('triggeredBy', r.triggered_by, 'workflowVersion', r.workflow_version),
    'run:' || r.id
  FROM new_runs r
  ON CONFLICT (organization_id, source_key) DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER workflow_executions_usage AFTER INSERT ON workflow_executions
  REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION aiops_usage_runs();
--> statement-breakpoint
-- One row per step attempt that called a model (or recorded tokens or cost): keyed by run, node and
-- attempt, so a completion written twice, or a second attempt row for the same attempt, bills once.
-- A response served from the cache counts no tokens (quantity 0) and costs what the engine recorded (0).
CREATE OR REPLACE FUNCTION aiops_usage_attempts() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO usage_records (organization_id, usage_type, quantity, unit, unit_price, total_cost, period_start,
    period_end, occurred_at, resource_type, resource_id, workflow_id, model, input_tokens, output_tokens,
    cached_tokens, details, source_key)
  SELECT a.organization_id, 'tokens', CASE WHEN a.cached THEN 0 ELSE a.total_tokens END, 'token',
    CASE WHEN a.total_tokens > 0 THEN round(a.estimated_cost / a.total_tokens, 12) END,
    a.estimated_cost,
    date_trunc('month', a.created_at AT TIME ZONE 'UTC')::date,
    (date_trunc('month', a.created_at AT TIME ZONE 'UTC') + interval '1 month - 1 day')::date,
    a.created_at, 'agent_execution', a.id, e.workflow_id, a.model, a.input_tokens, a.output_tokens,
    a.cached_input_tokens,
    jsonb_build_object('runId', a.workflow_execution_id, 'nodeId', a.node_id, 'attempt', a.attempt,
      'status', a.status, 'reasoningTokens', a.reasoning_tokens, 'estimated', a.tokens_estimated,
      'cachedResponse', a.cached),
    'attempt:' || a.workflow_execution_id || ':' || a.node_id || ':' || a.attempt
  FROM new_attempts a JOIN workflow_executions e ON e.id = a.workflow_execution_id
  WHERE a.model IS NOT NULL OR a.total_tokens > 0 OR a.estimated_cost > 0
  ON CONFLICT (organization_id, source_key) DO NOTHING;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER agent_executions_usage AFTER INSERT ON agent_executions
  REFERENCING NEW TABLE AS new_attempts FOR EACH STATEMENT EXECUTE FUNCTION aiops_usage_attempts();
--> statement-breakpoint
-- Append-only: the application role inserts and reads; only the owner's API-call flush raises the open
-- hour's api_call counter, and nothing lowers a quantity, changes another row or deletes one.
REVOKE UPDATE, DELETE, TRUNCATE ON "usage_records" FROM aiops_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aiops_usage_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    -- Only the cascade of deleting the organization itself removes its ledger.
    IF pg_trigger_depth() > 1 THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'usage_records is append-only' USING ERRCODE = '42501';
  END IF;
  IF OLD.usage_type <> 'api_call' OR NEW.quantity < OLD.quantity OR NEW.source_key <> OLD.source_key
     OR NEW.organization_id <> OLD.organization_id THEN
    RAISE EXCEPTION 'usage_records is append-only (only an api_call counter may grow)' USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER usage_records_append_only BEFORE UPDATE OR DELETE ON usage_records
  FOR EACH ROW EXECUTE FUNCTION aiops_usage_append_only();
--> statement-breakpoint
-- Invoice numbers are taken in the generating (owner) transaction only; tax rates are the operator's.
REVOKE ALL ON "invoice_sequences" FROM aiops_app;
--> statement-breakpoint
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON "tax_rates" FROM aiops_app;
--> statement-breakpoint
-- Invoices are never deleted (a cancelled one keeps its number and gets a credit note).
REVOKE DELETE, TRUNCATE ON "invoices" FROM aiops_app;
--> statement-breakpoint
INSERT INTO tax_rates (country, name, rate, reverse_charge) VALUES
  ('AT', 'USt', 0.2000, true), ('BE', 'BTW', 0.2100, true), ('DE', 'USt', 0.1900, true),
  ('ES', 'IVA', 0.2100, true), ('FR', 'TVA', 0.2000, true), ('IE', 'VAT', 0.2300, true),
  ('IT', 'IVA', 0.2200, true), ('NL', 'BTW', 0.2100, true), ('PL', 'VAT', 0.2300, true),
  ('SE', 'Moms', 0.2500, true), ('GB', 'VAT', 0.2000, false), ('CH', 'MWST', 0.0810, false),
  ('US', 'Sales tax', 0.0000, false), ('CA', 'GST', 0.0500, false), ('AU', 'GST', 0.1000, false)
ON CONFLICT (country) DO NOTHING;
