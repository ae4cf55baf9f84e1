-- Engine speed, part 5 (issue 13): creating runs without a temporary table. aiops_create_runs_any_org kept
-- the batch's runs in a session temporary table created ON COMMIT DELETE ROWS: every transaction that
-- created a run truncated it at commit, and truncating a relation (the table, its TOAST table and index,
-- their local buffers) cost about 0.7 ms of the server's CPU per transaction (pgbench, one client: a DO
-- block with the table's CREATE IF NOT EXISTS, DELETE, INSERT and two reads took 0.96-1.12 ms with the
-- clause and 0.26 ms without). Without the clause the table would only grow: the DELETEs leave dead rows,
-- and autovacuum does not visit temporary tables. The runs are now an array of a composite type in the
-- function's memory; the runs over quota or refused by a concurrency limit are filtered out of it, and
-- the queued ones are the ids in v_queued (was a status column). The body is otherwise 0042's.
CREATE TYPE aiops_new_run AS (
  id uuid, organization_id uuid, workflow_id uuid, workflow_version int, expect_current boolean,
  triggered_by text, user_id uuid, api_key_id uuid, external_trigger_id text, input jsonb, agent_pins jsonb,
  nodes int, timeout_ms bigint, max_retries int, correlation_id uuid, parent_execution_id uuid,
  parent_step_id uuid, idempotency_key text, metadata jsonb, concurrency_key text, ord int,
  remaining int, steps_completed int, rerun_of uuid);
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aiops_create_runs_any_org(p_runs jsonb, p_steps jsonb, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_new aiops_new_run[];
  v_org record;
  v_quota int;
  v_used int;
  v_reset date;
  v_allowed int;
  v_over uuid[] := '{}';
  v_run record;
  v_active int;
  v_busy boolean;
  v_queued uuid[] := '{}';
  v_limited uuid[] := '{}';
  v_created uuid[];
  v_tenant uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_lease_worker text := coalesce(current_setting('aiops.lease_worker', true), '');
  v_lease_ms int;
  v_lease text[] := '{}';
  v_lease_runs uuid[] := '{}';
BEGIN
  -- The batch's runs that may be created: their workflow exists, is at the expected version, and no run
  -- of the organization has their idempotency key.
  v_new := ARRAY(SELECT v FROM jsonb_populate_recordset(NULL::aiops_new_run, p_runs) v
  JOIN workflows w ON w.id = v.workflow_id AND w.organization_id = v.organization_id AND w.deleted_at IS NULL
  WHERE (NOT v.expect_current OR w.version = v.workflow_version)
    AND (v_tenant IS NULL OR v.organization_id = v_tenant)
    AND (v.idempotency_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM workflow_executions x WHERE x.organization_id = v.organization_id AND x.idempotency_key = v.idempotency_key))
    ORDER BY v.ord);

  -- Monthly execution quotas, per organization, counted once per run.
  FOR v_org IN SELECT organization_id, array_agg(id ORDER BY ord) AS ids FROM unnest(v_new) GROUP BY 1 ORDER BY 1 LOOP
    SELECT monthly_execution_quota, monthly_executions_used, monthly_reset_date INTO v_quota, v_used, v_reset
    FROM organizations WHERE id = v_org.organization_id FOR NO KEY UPDATE;
    IF v_reset IS NULL OR v_reset <= p_now::date THEN
      v_used := 0;
      v_reset := (date_trunc('month', p_now) + interval '1 month')::date;
    END IF;
    v_allowed := least(array_length(v_org.ids, 1), greatest(0, v_quota - v_used));
    v_over := v_over || coalesce(v_org.ids[v_allowed + 1:], '{}');
    UPDATE organizations SET monthly_executions_used = v_used + v_allowed, monthly_reset_date = v_reset
    WHERE id = v_org.organization_id;
  END LOOP;
  IF cardinality(v_over) > 0 THEN
    v_new := ARRAY(SELECT n FROM unnest(v_new) n WHERE n.id <> ALL(v_over));
  END IF;

  -- Concurrency: runs of workflows with a limit or a concurrency key are admitted one by one, in order.
  FOR v_run IN SELECT n.id, n.workflow_id, n.concurrency_key, n.ord, w.max_concurrent_executions AS max,
                      w.concurrency_policy AS policy
               FROM unnest(v_new) n JOIN workflows w ON w.id = n.workflow_id
               WHERE w.max_concurrent_executions IS NOT NULL OR n.concurrency_key IS NOT NULL
               ORDER BY n.workflow_id, n.ord LOOP
    PERFORM pg_advisory_xact_lock(hashtext('aiops:admit:' || v_run.workflow_id::text));
    SELECT (SELECT count(*) FROM workflow_executions
            WHERE workflow_id = v_run.workflow_id AND status IN ('pending', 'running', 'paused'))
         + (SELECT count(*) FROM unnest(v_new) b
            WHERE b.workflow_id = v_run.workflow_id AND b.ord < v_run.ord
              AND b.id <> ALL(v_queued) AND b.id <> ALL(v_limited))
    INTO v_active;
    v_busy := v_run.concurrency_key IS NOT NULL AND (
      EXISTS (SELECT 1 FROM workflow_executions a WHERE a.workflow_id = v_run.workflow_id
              AND a.concurrency_key = v_run.concurrency_key AND a.status IN ('queued', 'pending', 'running', 'paused'))
      OR EXISTS (SELECT 1 FROM unnest(v_new) b WHERE b.workflow_id = v_run.workflow_id
                 AND b.concurrency_key = v_run.concurrency_key AND b.ord < v_run.ord AND b.id <> ALL(v_limited)));
    IF (v_run.max IS NOT NULL AND v_active >= v_run.max) OR v_busy THEN
      IF v_run.policy = 'reject' THEN
        v_limited := v_limited || v_run.id;
      ELSE
        v_queued := v_queued || v_run.id;
      END IF;
    END IF;
  END LOOP;
  IF cardinality(v_limited) > 0 THEN
    v_new := ARRAY(SELECT n FROM unnest(v_new) n WHERE n.id <> ALL(v_limited));
  END IF;

  -- Runs created for a worker of the creating process (aiops_create_and_lease): up to its limit of their
  -- ready steps are inserted leased to it ('running', attempt 1) and their runs 'running', instead of being
  -- inserted ready and pending and updated in the same transaction (a row version and its index entries
  -- fewer per run and per step). Queued runs are not leased.
  IF v_lease_worker <> '' THEN
    v_lease_ms := current_setting('aiops.lease_ms')::int;
    SELECT coalesce(array_agg(k), '{}'), coalesce(array_agg(DISTINCT run_id), '{}') INTO v_lease, v_lease_runs FROM (
      SELECT s.run_id, s.run_id || '/' || s.node_id AS k
      FROM jsonb_to_recordset(p_steps) AS s(run_id uuid, node_id text, status text)
      JOIN unnest(v_new) n ON n.id = s.run_id AND n.id <> ALL(v_queued)
      WHERE s.status = 'ready'
      LIMIT greatest(current_setting('aiops.lease_limit')::int, 0)) x;
  END IF;

  WITH runs AS (
    INSERT INTO workflow_executions (
      id, organization_id, workflow_id, workflow_version, status, triggered_by, triggered_by_user_id,
      triggered_by_api_key_id, external_trigger_id, input_data, agent_pins, remaining_nodes, steps_total,
      timeout_at, max_retries, correlation_id, parent_execution_id, parent_step_id, idempotency_key, metadata,
      concurrency_key, steps_completed, rerun_of_execution_id, started_at)
    SELECT id, organization_id, workflow_id, workflow_version,
      CASE WHEN id = ANY(v_lease_runs) THEN 'running' WHEN id = ANY(v_queued) THEN 'queued' ELSE 'pending' END, triggered_by, user_id, api_key_id,
      external_trigger_id, input, agent_pins, coalesce(remaining, nodes), nodes,
      now() + make_interval(secs => timeout_ms / 1000.0), max_retries, correlation_id, parent_execution_id,
      parent_step_id, idempotency_key, metadata, concurrency_key, coalesce(steps_completed, 0), rerun_of,
      CASE WHEN id = ANY(v_lease_runs) THEN now() END
    FROM unnest(v_new)
    ON CONFLICT (organization_id, idempotency_key) DO NOTHING
    RETURNING id, status
  ), steps AS (
    INSERT INTO run_steps (organization_id, run_id, node_id, status, pending_inputs, live_inputs, output, wait, completed_at,
      attempt, started_at, lease_owner, lease_expires_at)
    SELECT s.organization_id, s.run_id, s.node_id,
      CASE WHEN s.leased THEN 'running' WHEN runs.status = 'queued' AND s.status = 'ready' THEN 'pending' ELSE s.status END,
      s.pending_inputs, coalesce(s.live_inputs, 0), s.output, s.wait,
      CASE WHEN s.status IN ('completed', 'skipped') THEN now() END,
      -- As aiops_lease_steps leases a ready step: a step resumed from a wait keeps its attempt.
      CASE WHEN s.leased AND NOT coalesce((s.wait->>'resumed')::boolean, false) THEN 1 ELSE 0 END,
      CASE WHEN s.leased THEN now() END,
      CASE WHEN s.leased THEN v_lease_worker END,
      CASE WHEN s.leased THEN now() + make_interval(secs => v_lease_ms / 1000.0) END
    FROM (SELECT x.*, x.status = 'ready' AND (x.run_id || '/' || x.node_id) = ANY(v_lease) AS leased
          FROM jsonb_to_recordset(p_steps) AS x(organization_id uuid, run_id uuid, node_id text, status text,
            pending_inputs int, live_inputs int, output jsonb, wait jsonb)) s
    JOIN runs ON runs.id = s.run_id
  )
  SELECT array_agg(id) INTO v_created FROM runs;
  IF v_created IS NOT NULL AND coalesce(current_setting('aiops.lease_created', true), '') = '' THEN
    PERFORM pg_notify('aiops_wake', '');
  END IF;
  RETURN jsonb_build_object('created', coalesce(to_jsonb(v_created), '[]'::jsonb), 'queued', to_jsonb(v_queued),
    'quota', to_jsonb(v_over), 'limited', to_jsonb(v_limited));
END
$$;
