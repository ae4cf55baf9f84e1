CREATE TABLE "execution_logs" (
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"workflow_execution_id" uuid,
	"run_step_id" uuid,
	"attempt" integer,
	"node_id" varchar(100),
	"level" varchar(10) DEFAULT 'info' NOT NULL,
	"message" text NOT NULL,
	"context" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"trace_id" varchar(32),
	"span_id" varchar(16),
	"parent_span_id" varchar(16),
	"source" varchar(100) DEFAULT 'engine' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "execution_logs_level_check" CHECK ("execution_logs"."level" in ('debug', 'info', 'warning', 'error', 'critical'))
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
ALTER TABLE "execution_logs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "spans" (
	"organization_id" uuid NOT NULL,
	"trace_id" varchar(32) NOT NULL,
	"span_id" varchar(16) NOT NULL,
	"parent_span_id" varchar(16),
	"name" varchar(500) NOT NULL,
	"kind" varchar(20) NOT NULL,
	"status" varchar(10) DEFAULT 'unset' NOT NULL,
	"status_message" text,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone,
	"duration_ms" numeric(14, 3),
	"source" varchar(10) DEFAULT 'engine' NOT NULL,
	"service_name" varchar(255),
	"workflow_execution_id" uuid,
	"run_step_id" uuid,
	"attempt" integer,
	"node_id" varchar(100),
	"model" varchar(255),
	"input_tokens" integer,
	"output_tokens" integer,
	"total_tokens" integer,
	"cost" numeric(20, 12),
	"input" jsonb,
	"output" jsonb,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"events" jsonb,
	"links" jsonb,
	"resource" jsonb,
	CONSTRAINT "spans_organization_id_trace_id_span_id_start_time_pk" PRIMARY KEY("organization_id","trace_id","span_id","start_time"),
	CONSTRAINT "spans_status_check" CHECK ("spans"."status" in ('unset', 'ok', 'error'))
) PARTITION BY RANGE ("start_time");
--> statement-breakpoint
ALTER TABLE "spans" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE INDEX "idx_execution_logs_run" ON "execution_logs" USING btree ("workflow_execution_id","created_at","id");--> statement-breakpoint
CREATE INDEX "idx_spans_roots" ON "spans" USING btree ("organization_id","start_time" DESC NULLS LAST) WHERE "spans"."parent_span_id" IS NULL;--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "execution_logs" AS PERMISSIVE FOR ALL TO public USING ("execution_logs"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("execution_logs"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "spans" AS PERMISSIVE FOR ALL TO public USING ("spans"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("spans"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
-- Month partitions: <table>_yYYYYmMM holds [first of the month, first of the next) in UTC. Creates the
-- current month's and the next `p_months_ahead` months' partitions of a range-partitioned table that
-- lacks them; returns how many it created. Idempotent. The maintenance job calls it; the engine's worker
-- calls it at start. SECURITY DEFINER (creating tables needs the owner); only partitioned tables in
-- public are accepted.
CREATE OR REPLACE FUNCTION aiops_ensure_partitions(p_table text, p_months_ahead int DEFAULT 1)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
  m date;
  created int := 0;
  part text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table pt JOIN pg_class c ON c.oid = pt.partrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relname = p_table AND pt.partstrat = 'r') THEN
    RAISE EXCEPTION 'aiops_ensure_partitions: % is not a range-partitioned table', p_table USING ERRCODE = '22023';
  END IF;
  IF p_months_ahead < 0 OR p_months_ahead > 36 THEN
    RAISE EXCEPTION 'aiops_ensure_partitions: months ahead must be 0..36' USING ERRCODE = '22023';
  END IF;
  FOR i IN 0..p_months_ahead LOOP
    m := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
    part := p_table || '_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM');
    IF to_regclass('public.' || quote_ident(part)) IS NULL THEN
      -- One way to make a partition (name, bounds, grants): the retention job's function (migration 0020).
      PERFORM aiops_ensure_month_partition(p_table, m);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_ensure_partitions(text, int) FROM public;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_ensure_partitions(text, int) TO aiops_app;--> statement-breakpoint
SELECT aiops_ensure_partitions('execution_logs', 1);--> statement-breakpoint
SELECT aiops_ensure_partitions('spans', 1);--> statement-breakpoint
-- The engine's log lines and spans of a batch of step outcomes, written in the statement that records
-- the outcomes (one round trip, one commit). Organization and trace ids come from the runs: a run's
-- trace id is its `metadata.trace.traceId` (a caller's traceparent) or its id without dashes. Like the
-- other engine functions it refuses another organization's runs when app.org_id is set.
CREATE OR REPLACE FUNCTION aiops_record_observations(p jsonb)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
  org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  n int := 0;
BEGIN
  IF p IS NULL THEN RETURN 0; END IF;
  IF org IS NOT NULL AND EXISTS (
       SELECT 1 FROM workflow_executions r
       WHERE r.id IN (SELECT (x->>'run_id')::uuid FROM jsonb_array_elements(coalesce(p->'logs', '[]') || coalesce(p->'spans', '[]')) x)
         AND r.organization_id <> org) THEN
    RAISE EXCEPTION 'run of another organization' USING ERRCODE = '42501';
  END IF;
  WITH runs AS MATERIALIZED (
    SELECT r.id, r.organization_id, coalesce(r.metadata->'trace'->>'traceId', replace(r.id::text, '-', '')) AS trace_id
    FROM workflow_executions r
    WHERE r.id IN (SELECT (x->>'run_id')::uuid FROM jsonb_array_elements(coalesce(p->'logs', '[]') || coalesce(p->'spans', '[]')) x)
  ), logs AS (
    INSERT INTO execution_logs (organization_id, workflow_execution_id, run_step_id, attempt, node_id, level,
                                message, context, trace_id, span_id, parent_span_id, source, created_at)
    SELECT r.organization_id, r.id, l.step_id, l.attempt, l.node_id, l.level, l.message, coalesce(l.context, '{}'),
           r.trace_id, l.span_id, l.parent_span_id, coalesce(l.source, 'engine'), l.at
    FROM jsonb_to_recordset(coalesce(p->'logs', '[]')) AS l(run_id uuid, step_id uuid, attempt int, node_id text,
           level text, message text, context jsonb, span_id text, parent_span_id text, source text, at timestamptz)
    JOIN runs r ON r.id = l.run_id
    RETURNING 1
  )
  INSERT INTO spans (organization_id, trace_id, span_id, parent_span_id, name, kind, status, status_message,
                     start_time, end_time, duration_ms, source, workflow_execution_id, run_step_id, attempt,
                     node_id, model, input_tokens, output_tokens, total_tokens, cost, input, output, attributes, links)
    SELECT r.organization_id, r.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.status, s.status_message,
           s.start_time, s.end_time, s.duration_ms, 'engine', r.id, s.step_id, s.attempt, s.node_id, s.model,
           s.input_tokens, s.output_tokens, s.total_tokens, s.cost, s.input, s.output, coalesce(s.attributes, '{}'), s.links
    FROM jsonb_to_recordset(coalesce(p->'spans', '[]')) AS s(run_id uuid, step_id uuid, attempt int, node_id text,
           span_id text, parent_span_id text, name text, kind text, status text, status_message text,
           start_time timestamptz, end_time timestamptz, duration_ms numeric, model text, input_tokens int,
           output_tokens int, total_tokens int, cost numeric, input jsonb, output jsonb, attributes jsonb, links jsonb)
    JOIN runs r ON r.id = s.run_id
    ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_record_observations(jsonb) FROM public;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_record_observations(jsonb) TO aiops_app;
