CREATE TABLE "agent_metric_rollup_state" (
	"name" varchar(40) PRIMARY KEY NOT NULL,
	"until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agent_metrics_daily" (
	"organization_id" uuid NOT NULL,
	"grain" varchar(8) DEFAULT 'full' NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"metric" varchar(32) NOT NULL,
	"agent_id" uuid,
	"model" varchar(255) DEFAULT '' NOT NULL,
	"workflow_id" uuid,
	"tool" varchar(100) DEFAULT '' NOT NULL,
	"count" bigint NOT NULL,
	"sum" numeric NOT NULL,
	"min" double precision NOT NULL,
	"max" double precision NOT NULL,
	"hist" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_metrics_daily" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "agent_metrics_hourly" (
	"organization_id" uuid NOT NULL,
	"grain" varchar(8) DEFAULT 'full' NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"metric" varchar(32) NOT NULL,
	"agent_id" uuid,
	"model" varchar(255) DEFAULT '' NOT NULL,
	"workflow_id" uuid,
	"tool" varchar(100) DEFAULT '' NOT NULL,
	"count" bigint NOT NULL,
	"sum" numeric NOT NULL,
	"min" double precision NOT NULL,
	"max" double precision NOT NULL,
	"hist" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_metrics_hourly" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "organization_retention" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"logs_days" integer NOT NULL,
	"metrics_days" integer NOT NULL,
	"executions_days" integer NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "organization_retention_logs_check" CHECK ("organization_retention"."logs_days" between 1 and 3650),
	CONSTRAINT "organization_retention_metrics_check" CHECK ("organization_retention"."metrics_days" between 1 and 3650),
	CONSTRAINT "organization_retention_executions_check" CHECK ("organization_retention"."executions_days" between 1 and 3650)
);
--> statement-breakpoint
ALTER TABLE "organization_retention" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "agent_metrics_daily" ADD CONSTRAINT "agent_metrics_daily_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_metrics_hourly" ADD CONSTRAINT "agent_metrics_hourly_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organization_retention" ADD CONSTRAINT "organization_retention_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_agent_metrics_daily_query" ON "agent_metrics_daily" USING btree ("organization_id","grain","agent_id","metric","bucket");--> statement-breakpoint
CREATE INDEX "idx_agent_metrics_daily_bucket" ON "agent_metrics_daily" USING btree ("bucket");--> statement-breakpoint
CREATE INDEX "idx_agent_metrics_hourly_query" ON "agent_metrics_hourly" USING btree ("organization_id","grain","agent_id","metric","bucket");--> statement-breakpoint
CREATE INDEX "idx_agent_metrics_hourly_bucket" ON "agent_metrics_hourly" USING btree ("bucket");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_metrics_daily" AS PERMISSIVE FOR ALL TO public USING ("agent_metrics_daily"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_metrics_daily"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_metrics_hourly" AS PERMISSIVE FOR ALL TO public USING ("agent_metrics_hourly"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_metrics_hourly"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "organization_retention" AS PERMISSIVE FOR ALL TO public USING ("organization_retention"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("organization_retention"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Raw agent metric samples, one row per agent or tool step attempt (and per recorded quality score),
-- partitioned by month on recorded_at (UTC months, partitions named agent_metrics_yYYYYmMM).
CREATE TABLE "agent_metrics" (
	"organization_id" uuid NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	"agent_id" uuid,
	"model" varchar(255) DEFAULT '' NOT NULL,
	"workflow_id" uuid,
	"tool" varchar(100) DEFAULT '' NOT NULL,
	"workflow_execution_id" uuid,
	"node_id" varchar(64),
	"attempt" integer,
	"latency_ms" integer CONSTRAINT "agent_metrics_latency_check" CHECK ("latency_ms" >= 0),
	"input_tokens" integer CONSTRAINT "agent_metrics_input_tokens_check" CHECK ("input_tokens" >= 0),
	"output_tokens" integer CONSTRAINT "agent_metrics_output_tokens_check" CHECK ("output_tokens" >= 0),
	"tokens" integer CONSTRAINT "agent_metrics_tokens_check" CHECK ("tokens" >= 0),
	"cost" numeric(24, 12) CONSTRAINT "agent_metrics_cost_check" CHECK ("cost" >= 0),
	"error" smallint CONSTRAINT "agent_metrics_error_check" CHECK ("error" IN (0, 1)),
	"quality" double precision CONSTRAINT "agent_metrics_quality_check" CHECK ("quality" >= 0 AND "quality" <= 100)
) PARTITION BY RANGE ("recorded_at");
--> statement-breakpoint
ALTER TABLE "agent_metrics" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "agent_metrics" AS PERMISSIVE FOR ALL TO public USING ("agent_metrics"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("agent_metrics"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);
--> statement-breakpoint
CREATE INDEX "idx_agent_metrics_query" ON "agent_metrics" USING btree ("organization_id", "agent_id", "recorded_at");
--> statement-breakpoint
-- Rows arrive in time order: a BRIN index serves the rollup job's time ranges for almost no write cost.
CREATE INDEX "idx_agent_metrics_time" ON "agent_metrics" USING brin ("recorded_at");
--> statement-breakpoint
-- The month partition of p_table containing p_month (UTC), created if missing; returns its name.
-- Partitions are revoked from aiops_app: the application reaches rows only through the parent, whose
-- RLS policy applies (a partition's own policies would be empty).
CREATE FUNCTION aiops_ensure_month_partition(p_table text, p_month date)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_from date := date_trunc('month', p_month)::date;
  v_name text := p_table || '_y' || to_char(v_from, 'YYYY') || 'm' || to_char(v_from, 'MM');
BEGIN
  IF to_regclass(v_name) IS NOT NULL THEN RETURN v_name; END IF;
  PERFORM pg_advisory_xact_lock(hashtext('aiops_partition:' || v_name));
  IF to_regclass(v_name) IS NOT NULL THEN RETURN v_name; END IF;
  EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', v_name, p_table,
    to_char(v_from, 'YYYY-MM-DD') || ' 00:00:00+00',
    to_char((v_from + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
  EXECUTE format('REVOKE ALL ON %I FROM aiops_app', v_name);
  RETURN v_name;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_ensure_month_partition(text, date) FROM PUBLIC;
--> statement-breakpoint
-- Histogram key of a metric value: log buckets of 2% relative accuracy (gamma = 1.02 / 0.98), "z" for 0.
CREATE FUNCTION aiops_metric_key(v double precision)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN v < 1e-9 THEN 'z' ELSE ceil(ln(v) / ln(1.02::float8 / 0.98::float8))::int::text END
$$;
--> statement-breakpoint
-- Agent metric samples of completed step attempts, called by the engine in the statement that completes
-- them (aiops_complete_steps' confirmed map decides: attempts whose lease was lost, or that wait or were
-- cancelled, record nothing). Security definer because the worker sets no tenant; with a tenant set it
-- refuses rows of another organization, like the engine's other functions.
CREATE FUNCTION aiops_record_agent_metrics(p_confirmed jsonb, p_rows jsonb)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_n int;
  v_month date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(SELECT DISTINCT (r->>'organization_id')::uuid FROM jsonb_array_elements(p_rows) r),
      'aiops_record_agent_metrics');
  END IF;
  IF to_regclass('agent_metrics_y' || to_char(v_month, 'YYYY') || 'm' || to_char(v_month, 'MM')) IS NULL THEN
    PERFORM aiops_ensure_month_partition('agent_metrics', v_month);
  END IF;
  INSERT INTO agent_metrics (organization_id, agent_id, model, workflow_id, tool, workflow_execution_id, node_id,
    attempt, latency_ms, input_tokens, output_tokens, tokens, cost, error)
  SELECT x.organization_id, x.agent_id, coalesce(x.model, ''), x.workflow_id, coalesce(x.tool, ''), x.run_id,
    x.node_id, x.attempt, x.latency_ms, x.input_tokens, x.output_tokens, x.tokens, x.cost, x.error
  FROM jsonb_to_recordset(p_rows) AS x(step_id text, organization_id uuid, agent_id uuid, model text,
    workflow_id uuid, tool text, run_id uuid, node_id text, attempt int, latency_ms int, input_tokens int,
    output_tokens int, tokens int, cost numeric, error smallint)
  WHERE p_confirmed->>x.step_id IN ('completed', 'failed', 'ready');
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_record_agent_metrics(jsonb, jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_record_agent_metrics(jsonb, jsonb) TO aiops_app;
--> statement-breakpoint
-- The rollups' reach is read by metric queries (as aiops_app) and written only by the rollup job.
REVOKE ALL ON "agent_metric_rollup_state" FROM aiops_app;
--> statement-breakpoint
GRANT SELECT ON "agent_metric_rollup_state" TO aiops_app;
--> statement-breakpoint
SELECT aiops_ensure_month_partition('agent_metrics', (now() AT TIME ZONE 'UTC')::date);
--> statement-breakpoint
SELECT aiops_ensure_month_partition('agent_metrics', ((now() AT TIME ZONE 'UTC') + interval '1 month')::date);
--> statement-breakpoint
-- Rollups are derived data: only the rollup job (owner role) writes them; tenants read their own rows.
REVOKE INSERT, UPDATE, DELETE ON "agent_metrics_hourly", "agent_metrics_daily" FROM aiops_app;
