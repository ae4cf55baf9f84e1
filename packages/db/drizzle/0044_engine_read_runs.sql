-- Runs read by id in one statement. The worker reads the final rows of the runs a completion batch ended
-- (for calls waiting on them), and the API reads the runs it has just started (its 202 answers). Both
-- read in a transaction (BEGIN, the role or tenant setting, the SELECT, COMMIT): four round trips for one
-- read. This function is the SELECT alone, one round trip, with the same visibility:
-- - p_org set: that organization's runs only;
-- - a tenant set (app.org_id): that tenant's runs only, whatever p_org says;
-- - neither (the engine's worker, as for aiops_complete_steps): the runs of any organization.
-- PL/pgSQL rather than SQL: a SECURITY DEFINER SQL function is never inlined, and its body would be planned
-- again at every call; PL/pgSQL keeps the plan for the session.
CREATE FUNCTION aiops_read_runs(p_org uuid, p_ids uuid[]) RETURNS SETOF workflow_executions
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant uuid := nullif(current_setting('app.org_id', true), '')::uuid;
BEGIN
  RETURN QUERY SELECT * FROM workflow_executions e
    WHERE e.id = ANY(p_ids)
      AND (p_org IS NULL OR e.organization_id = p_org)
      AND (v_tenant IS NULL OR e.organization_id = v_tenant);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_read_runs(uuid, uuid[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_read_runs(uuid, uuid[]) TO aiops_app;
