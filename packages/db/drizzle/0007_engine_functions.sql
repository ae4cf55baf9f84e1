-- The engine's hot path as SQL functions: one round trip each, plans cached, and SECURITY DEFINER so the
-- application role can call them without a transaction of its own (they cross tenants, as the engine's
-- queue must; each checks organization ids itself). Callable only by aiops_app.

-- NOTIFY with a JSON array of ids, in chunks that stay under PostgreSQL's 8000-byte payload limit.
CREATE OR REPLACE FUNCTION aiops_notify_ids(p_channel text, p_ids text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  i int := 1;
BEGIN
  IF p_ids IS NULL THEN
    RETURN;
  END IF;
  WHILE i <= coalesce(array_length(p_ids, 1), 0) LOOP
    PERFORM pg_notify(p_channel, to_json(p_ids[i:i + 149])::text);
    i := i + 150;
  END LOOP;
END
$$;
--> statement-breakpoint
-- Leases the given ready steps to a worker and marks their runs running. Returns the steps with what the
-- worker needs of their runs.
CREATE OR REPLACE FUNCTION aiops_lease_steps(p_worker text, p_ids uuid[], p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_result jsonb;
BEGIN
  WITH claimed AS (
    UPDATE run_steps r
    SET status = 'running', attempt = r.attempt + 1, lease_owner = p_worker,
        lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), started_at = now(), updated_at = now()
    WHERE r.id = ANY(p_ids) AND r.status = 'ready'
    RETURNING r.id, r.run_id, r.organization_id, r.node_id, r.attempt, r.failures
  ), started AS (
    UPDATE workflow_executions e SET status = 'running', started_at = coalesce(e.started_at, now()), updated_at = now()
    WHERE e.id IN (SELECT run_id FROM claimed) AND e.status = 'pending'
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'stepId', c.id, 'runId', c.run_id, 'organizationId', c.organization_id, 'nodeId', c.node_id,
      'attempt', c.attempt, 'failures', c.failures, 'workflowId', e.workflow_id,
      'workflowVersion', e.workflow_version, 'input', e.input_data, 'agentPins', e.agent_pins,
      'correlationId', e.correlation_id)), '[]'::jsonb)
  INTO v_result
  FROM claimed c JOIN workflow_executions e ON e.id = c.run_id;
  IF jsonb_array_length(v_result) > 0 THEN
    PERFORM aiops_notify_ids('aiops_run_events', ARRAY(SELECT DISTINCT s->>'runId' FROM jsonb_array_elements(v_result) s));
  END IF;
  RETURN v_result;
END
$$;
--> statement-breakpoint
-- Claims up to p_limit ready steps whose time has come, oldest first, skipping locked ones.
CREATE OR REPLACE FUNCTION aiops_claim_steps(p_worker text, p_limit int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_ids uuid[];
BEGIN
  SELECT array_agg(id) INTO v_ids FROM (
    SELECT s.id FROM run_steps s WHERE s.status = 'ready' AND s.available_at <= now()
    ORDER BY s.available_at LIMIT p_limit FOR UPDATE SKIP LOCKED
  ) c;
  IF v_ids IS NULL THEN
    RETURN '[]'::jsonb;
  END IF;
  RETURN aiops_lease_steps(p_worker, v_ids, p_lease_ms);
END
$$;
--> statement-breakpoint
-- Inserts runs and their steps (one batch), each only if its workflow exists in its organization (and,
-- when asked, is still at the expected version). Returns the ids inserted.
CREATE OR REPLACE FUNCTION aiops_create_runs(p_runs jsonb, p_steps jsonb)
RETURNS uuid[] LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_ids uuid[];
BEGIN
  WITH v AS (
    SELECT * FROM jsonb_to_recordset(p_runs) AS v(
      id uuid, organization_id uuid, workflow_id uuid, workflow_version int, expect_current boolean,
      triggered_by text, user_id uuid, api_key_id uuid, external_trigger_id text, input jsonb, agent_pins jsonb,
      nodes int, timeout_ms bigint, max_retries int, correlation_id uuid, parent_execution_id uuid,
      idempotency_key text, metadata jsonb)
  ), ok AS (
    SELECT v.* FROM v JOIN workflows w
      ON w.id = v.workflow_id AND w.organization_id = v.organization_id AND w.deleted_at IS NULL
    WHERE NOT v.expect_current OR w.version = v.workflow_version
  ), runs AS (
    INSERT INTO workflow_executions (
      id, organization_id, workflow_id, workflow_version, status, triggered_by, triggered_by_user_id,
      triggered_by_api_key_id, external_trigger_id, input_data, agent_pins, remaining_nodes, steps_total,
      timeout_at, max_retries, correlation_id, parent_execution_id, idempotency_key, metadata)
    SELECT id, organization_id, workflow_id, workflow_version, 'pending', triggered_by, user_id, api_key_id,
      external_trigger_id, input, agent_pins, nodes, nodes, now() + make_interval(secs => timeout_ms / 1000.0),
      max_retries, correlation_id, parent_execution_id, idempotency_key, metadata
    FROM ok
    ON CONFLICT (organization_id, idempotency_key) DO NOTHING
    RETURNING id
  ), steps AS (
    INSERT INTO run_steps (organization_id, run_id, node_id, status, pending_inputs)
    SELECT s.organization_id, s.run_id, s.node_id, s.status, s.pending_inputs
    FROM jsonb_to_recordset(p_steps) AS s(organization_id uuid, run_id uuid, node_id text, status text, pending_inputs int)
    JOIN runs ON runs.id = s.run_id
  )
  SELECT array_agg(id) INTO v_ids FROM runs;
  IF v_ids IS NOT NULL THEN
    PERFORM pg_notify('aiops_wake', '');
  END IF;
  RETURN coalesce(v_ids, '{}');
END
$$;
--> statement-breakpoint
-- Records a batch of step outcomes (see packages/engine/src/sql/complete-steps.ts for the fields):
-- 1. each step's final state where p_worker still holds its lease (steps of stopped runs are cancelled),
--    and its attempt row; 2. successors: incoming connections decided, nodes none of whose connections
--    fired skipped (and so on downstream); 3. runs: totals, failure, completion with their output, the
--    workflows' counters; 4. continuation: up to p_continue ready successors leased to p_worker.
-- Returns {confirmed: {stepId: status}, continued: [steps], finished: [{id, status}], leftReady: n}.
CREATE OR REPLACE FUNCTION aiops_complete_steps(p_worker text, p_outcomes jsonb, p_continue int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_final jsonb;
  v_dec jsonb;
  v_changed jsonb;
  v_ready uuid[] := '{}';
  v_done jsonb := '{}';
  v_failed jsonb;
  v_finished jsonb;
  v_continued jsonb := '[]';
  v_take uuid[];
BEGIN
  PERFORM 1 FROM workflow_executions
  WHERE id IN (SELECT DISTINCT (o->>'run_id')::uuid FROM jsonb_array_elements(p_outcomes) o)
  ORDER BY id FOR NO KEY UPDATE;

  -- 1. Steps and attempts.
  WITH v AS (
    SELECT * FROM jsonb_to_recordset(p_outcomes) AS v(
      id uuid, run_id uuid, organization_id uuid, node_id text, node_type text, agent_id uuid, agent_version int,
      attempt int, kind text, status text, status_reason text, output jsonb, error jsonb, failed int, delay_ms int,
      input jsonb, model text, started_at timestamptz, completed_at timestamptz, duration_ms int,
      input_tokens int, output_tokens int, cached_input_tokens int, reasoning_tokens int, total_tokens int,
      tokens_estimated boolean, cost numeric, cached boolean, failures int)
  ), runs AS (
    SELECT e.id, e.status IN ('pending', 'running') AS active FROM workflow_executions e
    WHERE e.id IN (SELECT run_id FROM v)
  ), upd AS (
    UPDATE run_steps r SET
      status = CASE WHEN runs.active THEN v.status ELSE 'cancelled' END,
      output = CASE WHEN runs.active THEN v.output END,
      error = v.error,
      failures = r.failures + v.failed,
      available_at = CASE WHEN runs.active AND v.status = 'ready'
                          THEN now() + make_interval(secs => v.delay_ms / 1000.0) ELSE r.available_at END,
      completed_at = CASE WHEN runs.active AND v.status = 'ready' THEN NULL ELSE now() END,
      lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
    FROM v JOIN runs ON runs.id = v.run_id
    WHERE r.id = v.id AND r.lease_owner = p_worker AND r.status = 'running'
    RETURNING r.id, r.status
  ), att AS (
    INSERT INTO agent_executions (
      organization_id, workflow_execution_id, node_id, node_type, agent_id, agent_version, attempt, status,
      status_reason, input, output, model, queued_at, started_at, completed_at, duration_ms, input_tokens,
      output_tokens, cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated, estimated_cost,
      cached, error_details, retry_count, worker_id)
    SELECT v.organization_id, v.run_id, v.node_id, v.node_type, v.agent_id, v.agent_version, v.attempt,
      CASE WHEN upd.status = 'cancelled' THEN 'cancelled' ELSE v.kind END,
      CASE WHEN upd.status = 'cancelled' THEN 'run stopped' ELSE v.status_reason END,
      v.input, CASE WHEN upd.status = 'cancelled' THEN NULL ELSE v.output END, v.model, v.started_at,
      v.started_at, v.completed_at, v.duration_ms, v.input_tokens, v.output_tokens, v.cached_input_tokens,
      v.reasoning_tokens, v.total_tokens, v.tokens_estimated, v.cost, v.cached, v.error, v.failures, p_worker
    FROM v JOIN upd ON upd.id = v.id
  )
  SELECT coalesce(jsonb_object_agg(upd.id, upd.status), '{}'::jsonb) INTO v_final FROM upd;

  IF v_final = '{}'::jsonb THEN
    RETURN jsonb_build_object('confirmed', v_final, 'continued', '[]'::jsonb, 'finished', '[]'::jsonb, 'leftReady', 0);
  END IF;

  -- Completed steps count as done for their run.
  SELECT coalesce(jsonb_object_agg(run_id, n), '{}'::jsonb) INTO v_done FROM (
    SELECT o->>'run_id' AS run_id, count(*) AS n FROM jsonb_array_elements(p_outcomes) o
    WHERE v_final->>(o->>'id') = 'completed' GROUP BY 1
  ) x;

  -- 2. Successors.
  SELECT jsonb_agg(jsonb_build_object('run_id', run_id, 'node_id', node_id, 'dec', dec, 'live', live)) INTO v_dec FROM (
    SELECT o->>'run_id' AS run_id, e->>'to' AS node_id, count(*) AS dec, count(*) FILTER (WHERE (e->>'live')::boolean) AS live
    FROM jsonb_array_elements(p_outcomes) o, jsonb_array_elements(coalesce(o->'edges', '[]'::jsonb)) e
    WHERE v_final->>(o->>'id') = 'completed'
    GROUP BY 1, 2
  ) d;
  WHILE v_dec IS NOT NULL LOOP
    WITH d AS (
      SELECT * FROM jsonb_to_recordset(v_dec) AS d(run_id uuid, node_id text, dec int, live int)
    ), ch AS (
      UPDATE run_steps r SET
        pending_inputs = r.pending_inputs - d.dec,
        live_inputs = r.live_inputs + d.live,
        status = CASE WHEN r.pending_inputs - d.dec > 0 THEN r.status
                      WHEN r.live_inputs + d.live > 0 THEN 'ready' ELSE 'skipped' END,
        available_at = now(),
        completed_at = CASE WHEN r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live = 0 THEN now() END,
        updated_at = now()
      FROM d WHERE r.run_id = d.run_id AND r.node_id = d.node_id AND r.status = 'pending'
      RETURNING r.id, r.run_id, r.node_id, r.status
    )
    SELECT jsonb_agg(jsonb_build_object('id', id, 'run_id', run_id, 'node_id', node_id, 'status', status)) INTO v_changed FROM ch;
    EXIT WHEN v_changed IS NULL;
    v_ready := v_ready || ARRAY(SELECT (c->>'id')::uuid FROM jsonb_array_elements(v_changed) c WHERE c->>'status' = 'ready');
    SELECT v_done || coalesce(jsonb_object_agg(run_id, coalesce((v_done->>run_id)::int, 0) + n), '{}'::jsonb) INTO v_done FROM (
      SELECT c->>'run_id' AS run_id, count(*) AS n FROM jsonb_array_elements(v_changed) c WHERE c->>'status' = 'skipped' GROUP BY 1
    ) x;
    SELECT jsonb_agg(jsonb_build_object('run_id', run_id, 'node_id', node_id, 'dec', dec, 'live', 0)) INTO v_dec FROM (
      SELECT c->>'run_id' AS run_id, succ AS node_id, count(*) AS dec
      FROM jsonb_array_elements(v_changed) c
      JOIN workflow_executions e ON e.id = (c->>'run_id')::uuid
      JOIN workflow_versions wv ON wv.workflow_id = e.workflow_id AND wv.version = e.workflow_version,
      jsonb_array_elements_text(coalesce(wv.graph->'out'->(c->>'node_id'), '[]'::jsonb)) succ
      WHERE c->>'status' = 'skipped'
      GROUP BY 1, 2
    ) n;
  END LOOP;

  -- Runs whose step failed for good fail; their other steps stop.
  SELECT jsonb_object_agg(run_id, jsonb_build_object('code', code, 'message', message)) INTO v_failed FROM (
    SELECT DISTINCT ON (o->>'run_id') o->>'run_id' AS run_id, coalesce(o->'error'->>'code', 'step_failed') AS code,
      'Step ' || (o->>'node_id') || ' failed: ' || coalesce(o->'error'->>'message', 'unknown error') AS message
    FROM jsonb_array_elements(p_outcomes) o WHERE v_final->>(o->>'id') = 'failed'
    ORDER BY o->>'run_id', o->>'node_id'
  ) f;
  IF v_failed IS NOT NULL THEN
    UPDATE run_steps SET status = 'cancelled', completed_at = now(), updated_at = now()
    WHERE run_id IN (SELECT key::uuid FROM jsonb_each(v_failed)) AND status IN ('pending', 'ready');
    PERFORM aiops_notify_ids('aiops_cancel', ARRAY(SELECT key FROM jsonb_each(v_failed)));
  END IF;

  -- 3. Runs: totals, failure or completion, workflow counters.
  WITH t AS (
    SELECT (o->>'run_id')::uuid AS id,
      sum(CASE WHEN v_final->>(o->>'id') = 'completed' THEN 1 ELSE 0 END)::int AS completed,
      sum((o->>'input_tokens')::bigint) AS input, sum((o->>'output_tokens')::bigint) AS output,
      sum((o->>'total_tokens')::bigint) AS total, sum((o->>'cost')::numeric) AS cost
    FROM jsonb_array_elements(p_outcomes) o
    WHERE v_final ? (o->>'id')
    GROUP BY 1
  ), upd AS (
    UPDATE workflow_executions e SET
      remaining_nodes = e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0),
      steps_completed = e.steps_completed + t.completed,
      input_tokens = e.input_tokens + t.input,
      output_tokens = e.output_tokens + t.output,
      total_tokens_used = e.total_tokens_used + t.total,
      estimated_cost = e.estimated_cost + t.cost,
      status = CASE WHEN e.status NOT IN ('pending', 'running') THEN e.status
                    WHEN v_failed ? t.id::text THEN 'failed'
                    WHEN e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0 THEN 'completed'
                    ELSE e.status END,
      error_code = CASE WHEN e.status IN ('pending', 'running') AND v_failed ? t.id::text
                        THEN v_failed->t.id::text->>'code' ELSE e.error_code END,
      error_message = CASE WHEN e.status IN ('pending', 'running') AND v_failed ? t.id::text
                           THEN v_failed->t.id::text->>'message' ELSE e.error_message END,
      status_reason = CASE WHEN e.status IN ('pending', 'running') AND v_failed ? t.id::text
                           THEN v_failed->t.id::text->>'message' ELSE e.status_reason END,
      output_data = CASE WHEN e.status IN ('pending', 'running') AND NOT (coalesce(v_failed, '{}'::jsonb) ? t.id::text)
                              AND e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0
        THEN (SELECT CASE WHEN count(*) = 1 THEN (jsonb_agg(s.output))->0 ELSE jsonb_object_agg(s.node_id, s.output) END
              FROM run_steps s JOIN workflow_versions wv ON wv.workflow_id = e.workflow_id AND wv.version = e.workflow_version
              WHERE s.run_id = e.id AND s.status = 'completed' AND wv.graph->'result' ? s.node_id)
        ELSE e.output_data END,
      completed_at = CASE WHEN e.status IN ('pending', 'running')
                               AND (coalesce(v_failed, '{}'::jsonb) ? t.id::text OR e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0)
                          THEN now() ELSE e.completed_at END,
      duration_ms = CASE WHEN e.status IN ('pending', 'running')
                              AND (coalesce(v_failed, '{}'::jsonb) ? t.id::text OR e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0)
                         THEN (extract(epoch FROM now() - coalesce(e.started_at, e.created_at)) * 1000)::int ELSE e.duration_ms END,
      updated_at = now()
    FROM t WHERE e.id = t.id
    RETURNING e.id, e.status, e.workflow_id, e.duration_ms, e.estimated_cost,
      (e.status IN ('completed', 'failed') AND e.completed_at = now()) AS finished
  ), counters AS (
    UPDATE workflows w SET
      average_duration = (coalesce(w.average_duration, 0) * w.total_executions + f.duration) / (w.total_executions + f.n),
      average_cost = (coalesce(w.average_cost, 0) * w.total_executions + f.cost) / (w.total_executions + f.n),
      total_executions = w.total_executions + f.n,
      successful_executions = w.successful_executions + f.ok,
      failed_executions = w.failed_executions + f.n - f.ok,
      last_run_at = now(), last_run_status = f.last
    FROM (SELECT workflow_id, count(*)::int AS n, count(*) FILTER (WHERE status = 'completed')::int AS ok,
                 coalesce(sum(duration_ms), 0)::float8 AS duration, coalesce(sum(estimated_cost), 0) AS cost,
                 max(status) AS last
          FROM upd WHERE finished GROUP BY workflow_id) f
    WHERE w.id = f.workflow_id
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'status', status)) FILTER (WHERE finished), '[]'::jsonb)
  INTO v_finished FROM upd;
  PERFORM aiops_notify_ids('aiops_run_events',
    ARRAY(SELECT DISTINCT o->>'run_id' FROM jsonb_array_elements(p_outcomes) o WHERE v_final ? (o->>'id')));

  -- 4. Continuation.
  IF array_length(v_ready, 1) > 0 THEN
    IF p_continue > 0 THEN
      v_take := v_ready[1:p_continue];
      v_continued := aiops_lease_steps(p_worker, v_take, p_lease_ms);
    END IF;
    IF jsonb_array_length(v_continued) < array_length(v_ready, 1) THEN
      PERFORM pg_notify('aiops_wake', '');
    END IF;
  END IF;

  RETURN jsonb_build_object('confirmed', v_final, 'continued', v_continued, 'finished', v_finished,
    'leftReady', coalesce(array_length(v_ready, 1), 0) - jsonb_array_length(v_continued));
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_notify_ids(text, text[]) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_lease_steps(text, uuid[], int) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_claim_steps(text, int, int) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_create_runs(jsonb, jsonb) FROM PUBLIC;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_complete_steps(text, jsonb, int, int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_lease_steps(text, uuid[], int) TO aiops_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_claim_steps(text, int, int) TO aiops_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_create_runs(jsonb, jsonb) TO aiops_app;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_complete_steps(text, jsonb, int, int) TO aiops_app;
