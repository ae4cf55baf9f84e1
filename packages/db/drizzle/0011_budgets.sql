-- Budgets (issue 7): a step's lease says what its run has spent and its organization's monthly budget and
-- spend, so the worker can refuse a model call that could overspend; spend is added after each batch.
CREATE OR REPLACE FUNCTION aiops_lease_steps(p_worker text, p_ids uuid[], p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_result jsonb;
BEGIN
  WITH claimed AS (
    UPDATE run_steps r
    SET status = 'running',
        attempt = r.attempt + CASE WHEN coalesce((r.wait->>'resumed')::boolean, false) THEN 0 ELSE 1 END,
        started_at = CASE WHEN coalesce((r.wait->>'resumed')::boolean, false) THEN coalesce(r.started_at, now()) ELSE now() END,
        lease_owner = p_worker,
        lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), updated_at = now()
    FROM workflow_executions e
    WHERE r.id = ANY(p_ids) AND r.status = 'ready' AND e.id = r.run_id AND e.status IN ('pending', 'running')
    RETURNING r.id, r.run_id, r.organization_id, r.node_id, r.attempt, r.failures, r.wait
  ), started AS (
    UPDATE workflow_executions e SET status = 'running', started_at = coalesce(e.started_at, now()), updated_at = now()
    WHERE e.id IN (SELECT run_id FROM claimed) AND e.status = 'pending'
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'stepId', c.id, 'runId', c.run_id, 'organizationId', c.organization_id, 'nodeId', c.node_id,
      'attempt', c.attempt, 'failures', c.failures, 'wait', c.wait, 'workflowId', e.workflow_id,
      'workflowVersion', e.workflow_version, 'input', e.input_data, 'agentPins', e.agent_pins,
      'correlationId', e.correlation_id, 'depth', coalesce((e.metadata->>'depth')::int, 0),
      'runSpent', e.estimated_cost, 'orgBudget', (o.settings->>'monthlyBudgetUsd')::numeric,
      'orgSpent', CASE WHEN o.monthly_reset_date IS NULL OR o.monthly_reset_date <= now()::date THEN 0 ELSE o.monthly_cost_used END)),
    '[]'::jsonb)
  INTO v_result
  FROM claimed c JOIN workflow_executions e ON e.id = c.run_id JOIN organizations o ON o.id = e.organization_id;
  IF jsonb_array_length(v_result) > 0 THEN
    PERFORM aiops_notify_ids('aiops_run_events', ARRAY(SELECT DISTINCT s->>'runId' FROM jsonb_array_elements(v_result) s));
  END IF;
  RETURN v_result;
END
$$;
--> statement-breakpoint
-- Adds model spend to organizations' monthly cost (reset with the monthly execution counter).
CREATE OR REPLACE FUNCTION aiops_add_org_cost(p_costs jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  -- A new month: both monthly counters start again (the trigger below zeroes the cost when the date moves).
  UPDATE organizations o SET monthly_executions_used = 0,
    monthly_reset_date = (date_trunc('month', now()) + interval '1 month')::date
  FROM jsonb_to_recordset(p_costs) AS c(organization_id uuid, cost numeric)
  WHERE o.id = c.organization_id AND (o.monthly_reset_date IS NULL OR o.monthly_reset_date <= now()::date);
  UPDATE organizations o SET monthly_cost_used = o.monthly_cost_used + c.cost
  FROM jsonb_to_recordset(p_costs) AS c(organization_id uuid, cost numeric)
  WHERE o.id = c.organization_id;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_add_org_cost(jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_add_org_cost(jsonb) TO aiops_app;
--> statement-breakpoint
-- When the monthly reset date moves (a new month began), the month's model spend starts again from zero.
CREATE OR REPLACE FUNCTION aiops_reset_monthly_cost() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.monthly_reset_date IS DISTINCT FROM OLD.monthly_reset_date THEN
    NEW.monthly_cost_used := 0;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER organizations_monthly_reset BEFORE UPDATE OF monthly_reset_date ON organizations
  FOR EACH ROW EXECUTE FUNCTION aiops_reset_monthly_cost();
