-- Engine (issue 13): the completion's step update without a quadratic rescan.
-- aiops_complete_steps_any_org (0047's body) updated a batch's steps with `r.id = ANY(v_steps) AND r.id = v.id`:
-- a nested loop whose inner index scan carried both conditions, so every one of the batch's rows rescanned
-- run_steps_pkey with the whole array, and btree sorted and de-duplicated the array again at each rescan
-- (auto_explain, bench:engine's queue part, batches of 500 one-step runs: the nested loop 53 ms, its children
-- 15 ms). The step is found by `r.id = v.id` alone, one probe of the primary key per outcome.
CREATE OR REPLACE FUNCTION aiops_complete_steps_any_org(p_worker text, p_outcomes jsonb, p_continue int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET enable_seqscan = off AS $$
DECLARE
  v_final jsonb;
  v_s_runs uuid[];
  v_s_nodes text[];
  v_s_dec int[];
  v_s_live int[];
  v_s_ids uuid[];
  v_new_ready uuid[];
  v_sk_runs uuid[];
  v_sk_nodes text[];
  v_ready uuid[] := '{}';
  v_done jsonb := '{}';
  v_failed jsonb;
  v_finished jsonb;
  v_finished_ids uuid[];
  v_open text[];
  v_closed text[];
  v_continued jsonb := '[]';
  v_waiting boolean;
  v_tenant uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_runs uuid[] := ARRAY(SELECT DISTINCT (o->>'run_id')::uuid FROM jsonb_array_elements(p_outcomes) o);
BEGIN
  PERFORM 1 FROM workflow_executions WHERE id = ANY(v_runs) ORDER BY id FOR NO KEY UPDATE;

  -- 1. Steps and attempts.
  WITH v AS (
    SELECT * FROM jsonb_to_recordset(p_outcomes) AS v(
      id uuid, run_id uuid, organization_id uuid, node_id text, node_type text, agent_id uuid, agent_version int,
      attempt int, kind text, status text, status_reason text, output jsonb, error jsonb, failed int, delay_ms int,
      wait jsonb, wake_at timestamptz, input jsonb, model text, started_at timestamptz, completed_at timestamptz,
      duration_ms int, input_tokens int, output_tokens int, cached_input_tokens int, reasoning_tokens int,
      total_tokens int, tokens_estimated boolean, cost numeric, cached boolean, failures int, trace jsonb)
  ), runs AS (
    SELECT e.id, e.status IN ('pending', 'running', 'paused') AS active FROM workflow_executions e
    WHERE e.id = ANY(v_runs)
  ), upd AS (
    UPDATE run_steps r SET
      status = CASE WHEN runs.active THEN v.status ELSE 'cancelled' END,
      output = CASE WHEN runs.active AND v.status = 'completed' THEN v.output END,
      error = v.error,
      wait = CASE WHEN runs.active AND v.status = 'waiting' THEN v.wait ELSE r.wait END,
      failures = r.failures + v.failed,
      available_at = CASE WHEN NOT runs.active THEN r.available_at
                          WHEN v.status = 'ready' THEN now() + make_interval(secs => v.delay_ms / 1000.0)
                          WHEN v.status = 'waiting' THEN coalesce(v.wake_at, 'infinity'::timestamptz)
                          ELSE r.available_at END,
      completed_at = CASE WHEN runs.active AND v.status IN ('ready', 'waiting') THEN NULL ELSE now() END,
      lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
    FROM v JOIN runs ON runs.id = v.run_id
    -- IS NOT DISTINCT FROM (status is never null): unlike `=`, it does not match the predicate of the
    -- partial index idx_run_steps_leases, which the planner would otherwise scan whole (every running step).
    WHERE r.id = v.id AND r.lease_owner = p_worker
      AND r.status IS NOT DISTINCT FROM 'running'
      AND r.organization_id = v.organization_id AND (v_tenant IS NULL OR r.organization_id = v_tenant)
    RETURNING r.id, r.status
  ), att AS (
    INSERT INTO agent_executions (
      organization_id, workflow_execution_id, node_id, node_type, agent_id, agent_version, attempt, status,
      status_reason, input, output, model, queued_at, started_at, completed_at, duration_ms, input_tokens,
      output_tokens, cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated, estimated_cost,
      cached, error_details, retry_count, worker_id, trace_data)
    SELECT v.organization_id, v.run_id, v.node_id, v.node_type, v.agent_id, v.agent_version, v.attempt,
      CASE WHEN upd.status = 'cancelled' THEN 'cancelled' ELSE v.kind END,
      CASE WHEN upd.status = 'cancelled' THEN 'run stopped' ELSE v.status_reason END,
      v.input, CASE WHEN upd.status = 'cancelled' THEN NULL ELSE v.output END, v.model, v.started_at,
      v.started_at, v.completed_at, v.duration_ms, v.input_tokens, v.output_tokens, v.cached_input_tokens,
      v.reasoning_tokens, v.total_tokens, v.tokens_estimated, v.cost, v.cached, v.error, v.failures, p_worker,
      coalesce(v.trace, '{}'::jsonb)
    FROM v JOIN upd ON upd.id = v.id
    WHERE upd.status <> 'waiting'
  )
  SELECT coalesce(jsonb_object_agg(upd.id, upd.status), '{}'::jsonb) INTO v_final FROM upd;

  IF v_final = '{}'::jsonb THEN
    RETURN jsonb_build_object('confirmed', v_final, 'continued', '[]'::jsonb, 'finished', '[]'::jsonb);
  END IF;

  v_waiting := EXISTS (SELECT 1 FROM jsonb_each_text(v_final) f WHERE f.value = 'waiting');
  IF v_waiting THEN
  -- A step waiting for an approval pauses its run.
  UPDATE workflow_executions e SET status = 'paused', paused_at = now(), updated_at = now(),
    status_reason = 'waiting for approval: ' || w.node_id
  FROM (SELECT DISTINCT ON (o->>'run_id') (o->>'run_id')::uuid AS run_id, o->>'node_id' AS node_id
        FROM jsonb_array_elements(p_outcomes) o
        WHERE v_final->>(o->>'id') = 'waiting' AND o->'wait'->>'kind' = 'approval') w
  -- IS NOT DISTINCT FROM: `status IN (…)` matches the predicates of the partial indexes on active runs.
  WHERE e.id = w.run_id AND (e.status IS NOT DISTINCT FROM 'pending' OR e.status IS NOT DISTINCT FROM 'running');

  -- A step now waiting for a child run that already ended resumes at once.
  PERFORM aiops_resume_parents(ARRAY(
    SELECT (o->'wait'->>'runId')::uuid FROM jsonb_array_elements(p_outcomes) o
    WHERE v_final->>(o->>'id') = 'waiting' AND o->'wait'->>'kind' = 'subworkflow'));
  END IF;

  SELECT coalesce(jsonb_object_agg(run_id, n), '{}'::jsonb) INTO v_done FROM (
    SELECT o->>'run_id' AS run_id, count(*) AS n FROM jsonb_array_elements(p_outcomes) o
    WHERE v_final->>(o->>'id') = 'completed' GROUP BY 1
  ) x;

  -- 2. Successors: the (run, node) pairs the completed steps' edges lead to, with how many inputs each
  -- loses and how many of those carried a value (live).
  SELECT array_agg(run_id), array_agg(node_id), array_agg(dec), array_agg(live)
  INTO v_s_runs, v_s_nodes, v_s_dec, v_s_live FROM (
    SELECT (o->>'run_id')::uuid AS run_id, e->>'to' AS node_id, count(*)::int AS dec,
      (count(*) FILTER (WHERE (e->>'live')::boolean))::int AS live
    FROM jsonb_array_elements(p_outcomes) o, jsonb_array_elements(coalesce(o->'edges', '[]'::jsonb)) e
    WHERE v_final->>(o->>'id') = 'completed'
    GROUP BY 1, 2
  ) d;
  WHILE v_s_runs IS NOT NULL LOOP
    -- Each successor's id by one probe of run_steps_run_node_key (LIMIT 1 keeps the LATERAL a nested loop:
    -- a plain join is planned as a hash join over a sequential scan of run_steps), then the update by id.
    SELECT array_agg(s.id), array_agg(u.dec), array_agg(u.live) INTO v_s_ids, v_s_dec, v_s_live
    FROM unnest(v_s_runs, v_s_nodes, v_s_dec, v_s_live) AS u(run_id, node_id, dec, live),
    LATERAL (SELECT r.id FROM run_steps r WHERE r.run_id = u.run_id AND r.node_id = u.node_id LIMIT 1) s;
    WITH d AS (
      SELECT * FROM unnest(v_s_ids, v_s_dec, v_s_live) AS d(id, dec, live)
    ), ch AS (
      UPDATE run_steps r SET
        pending_inputs = r.pending_inputs - d.dec,
        live_inputs = r.live_inputs + d.live,
        status = CASE WHEN r.pending_inputs - d.dec > 0 THEN r.status
                      WHEN r.live_inputs + d.live > 0 THEN 'ready' ELSE 'skipped' END,
        available_at = now(),
        completed_at = CASE WHEN r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live = 0 THEN now() END,
        updated_at = now()
      -- Driven by d, one probe of the primary key per successor: with `r.id = ANY(v_s_ids)` as well, the
      -- plan started from run_steps and re-read d for every row (342 successors: 116,622 comparisons, 44 ms).
      FROM d WHERE r.id = d.id AND r.status = 'pending'
      RETURNING r.id, r.run_id, r.node_id, r.status
    )
    SELECT array_agg(id) FILTER (WHERE status = 'ready'), array_agg(run_id) FILTER (WHERE status = 'skipped'),
      array_agg(node_id) FILTER (WHERE status = 'skipped')
    INTO v_new_ready, v_sk_runs, v_sk_nodes FROM ch;
    v_ready := v_ready || coalesce(v_new_ready, '{}');
    EXIT WHEN v_sk_runs IS NULL;
    -- Skipped steps count as done, and their successors lose an input (never a live one).
    SELECT v_done || jsonb_object_agg(run_id, coalesce((v_done->>run_id::text)::int, 0) + n) INTO v_done FROM (
      SELECT run_id, count(*) AS n FROM unnest(v_sk_runs) AS k(run_id) GROUP BY 1
    ) x;
    SELECT array_agg(run_id), array_agg(node_id), array_agg(dec), array_agg(0)
    INTO v_s_runs, v_s_nodes, v_s_dec, v_s_live FROM (
      SELECT k.run_id, succ AS node_id, count(*)::int AS dec
      FROM unnest(v_sk_runs, v_sk_nodes) AS k(run_id, node_id)
      JOIN workflow_executions e ON e.id = k.run_id
      JOIN workflow_versions wv ON wv.workflow_id = e.workflow_id AND wv.version = e.workflow_version,
      jsonb_array_elements_text(coalesce(wv.graph->'out'->k.node_id, '[]'::jsonb)) succ
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
    WHERE run_id IN (SELECT key::uuid FROM jsonb_each(v_failed)) AND status IN ('pending', 'ready', 'waiting');
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
      status = CASE WHEN e.status NOT IN ('pending', 'running', 'paused') THEN e.status
                    WHEN v_failed ? t.id::text THEN 'failed'
                    WHEN e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0 THEN 'completed'
                    ELSE e.status END,
      error_code = CASE WHEN e.status IN ('pending', 'running', 'paused') AND v_failed ? t.id::text
                        THEN v_failed->t.id::text->>'code' ELSE e.error_code END,
      error_message = CASE WHEN e.status IN ('pending', 'running', 'paused') AND v_failed ? t.id::text
                           THEN v_failed->t.id::text->>'message' ELSE e.error_message END,
      status_reason = CASE WHEN e.status IN ('pending', 'running', 'paused') AND v_failed ? t.id::text
                           THEN v_failed->t.id::text->>'message' ELSE e.status_reason END,
      output_data = CASE WHEN e.status IN ('pending', 'running', 'paused') AND NOT (coalesce(v_failed, '{}'::jsonb) ? t.id::text)
                              AND e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0
        THEN (SELECT CASE WHEN count(*) = 1 THEN (jsonb_agg(s.output))->0 ELSE jsonb_object_agg(s.node_id, s.output) END
              FROM run_steps s JOIN workflow_versions wv ON wv.workflow_id = e.workflow_id AND wv.version = e.workflow_version
              WHERE s.run_id = e.id AND s.status = 'completed' AND wv.graph->'result' ? s.node_id)
        ELSE e.output_data END,
      completed_at = CASE WHEN e.status IN ('pending', 'running', 'paused')
                               AND (coalesce(v_failed, '{}'::jsonb) ? t.id::text OR e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0)
                          THEN now() ELSE e.completed_at END,
      duration_ms = CASE WHEN e.status IN ('pending', 'running', 'paused')
                              AND (coalesce(v_failed, '{}'::jsonb) ? t.id::text OR e.remaining_nodes - coalesce((v_done->>t.id::text)::int, 0) <= 0)
                         THEN (extract(epoch FROM now() - coalesce(e.started_at, e.created_at)) * 1000)::int ELSE e.duration_ms END,
      updated_at = now()
    FROM t WHERE e.id = t.id
    RETURNING e.id, e.status, e.workflow_id, e.duration_ms, e.estimated_cost, e.parent_step_id,
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
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', id, 'status', status, 'workflowId', workflow_id,
      'child', parent_step_id IS NOT NULL)) FILTER (WHERE finished), '[]'::jsonb),
    coalesce(array_agg(id::text) FILTER (WHERE status IN ('pending', 'running', 'paused', 'queued')), '{}'),
    coalesce(array_agg(id::text) FILTER (WHERE status NOT IN ('pending', 'running', 'paused', 'queued')), '{}')
  INTO v_finished, v_open, v_closed FROM upd;
  -- Runs still open are announced as such ({"open": [...]}): a caller waiting for a run's end need not read it.
  PERFORM aiops_notify_ids('aiops_run_events', v_closed);
  PERFORM aiops_notify_open_ids(v_open);

  IF jsonb_array_length(v_finished) > 0 THEN
    v_finished_ids := ARRAY(SELECT (f->>'id')::uuid FROM jsonb_array_elements(v_finished) f);
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(v_finished) f WHERE (f->>'child')::boolean) THEN
      PERFORM aiops_resume_parents(v_finished_ids);
    END IF;
    PERFORM aiops_admit_queued(ARRAY(SELECT DISTINCT (f->>'workflowId')::uuid FROM jsonb_array_elements(v_finished) f));
  END IF;

  -- 4. Continuation.
  IF array_length(v_ready, 1) > 0 THEN
    IF p_continue > 0 THEN
      v_continued := aiops_lease_steps(p_worker, v_ready[1:p_continue], p_lease_ms);
    END IF;
    IF jsonb_array_length(v_continued) < array_length(v_ready, 1) THEN
      PERFORM pg_notify('aiops_wake', '');
    END IF;
  END IF;

  RETURN jsonb_build_object('confirmed', v_final, 'continued', v_continued, 'finished', v_finished);
END
$$;
