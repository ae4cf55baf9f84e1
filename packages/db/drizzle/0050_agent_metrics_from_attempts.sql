-- Engine speed (issue 13): agent metric samples of step attempts are derived from the attempt rows instead
-- of written beside them. Every agent or tool attempt that completed or failed already has its
-- agent_executions row, written by the statement that completes it, with everything a sample holds
-- (agent, model, workflow through its run, tool in its input, duration, tokens, cost, whether it failed).
-- The completion wrote the same values again into agent_metrics (a partitioned table with two indexes),
-- through aiops_record_agent_metrics: on PGlite about a tenth of a step's completion. agent_metric_samples
-- is what metric queries and the rollup job read: the samples still stored in agent_metrics (quality scores
-- recorded by evaluations) and the derived samples of attempts. Its security_invoker makes the tables'
-- row-level security apply to whoever reads it. The engine's samples already stored are deleted, as they
-- would be counted twice; the rollups made from them stay as they are (the same values).
CREATE INDEX "idx_agent_executions_created" ON "agent_executions" USING brin ("created_at");
--> statement-breakpoint
CREATE VIEW agent_metric_samples WITH (security_invoker = true) AS
  SELECT m.organization_id, m.recorded_at, m.agent_id, m.model::text AS model, m.workflow_id, m.tool::text AS tool,
         m.workflow_execution_id, m.node_id::text AS node_id, m.attempt, m.latency_ms, m.input_tokens,
         m.output_tokens, m.tokens, m.cost::numeric AS cost, m.error, m.quality
  FROM agent_metrics m
  UNION ALL
  SELECT a.organization_id, a.created_at, a.agent_id, coalesce(a.model, '')::text, e.workflow_id,
         CASE WHEN a.node_type = 'tool' THEN left(coalesce(a.input->>'tool', ''), 100) ELSE '' END,
         a.workflow_execution_id, a.node_id::text, a.attempt, a.duration_ms, a.input_tokens, a.output_tokens,
         a.total_tokens, a.estimated_cost::numeric, (a.status = 'failed')::int::smallint, NULL::float8
  FROM agent_executions a JOIN workflow_executions e ON e.id = a.workflow_execution_id
  WHERE a.node_type IN ('agent', 'tool') AND a.status IN ('completed', 'failed');
--> statement-breakpoint
REVOKE ALL ON agent_metric_samples FROM aiops_app;
--> statement-breakpoint
GRANT SELECT ON agent_metric_samples TO aiops_app;
--> statement-breakpoint
DELETE FROM agent_metrics WHERE quality IS NULL;
--> statement-breakpoint
DROP FUNCTION aiops_record_agent_metrics(jsonb, jsonb);
