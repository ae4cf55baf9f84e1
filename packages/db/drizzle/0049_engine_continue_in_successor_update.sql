-- Engine speed (issue 13): continuation in the successors' update, and observations without an empty insert.
-- aiops_complete_steps_any_org (0048's body) wrote a successor that became ready as 'ready', then leased it
-- to the completing worker with aiops_lease_steps (continuation): two new row versions of the successor in one
-- transaction, each with its entries in run_steps' six indexes, and a second statement that re-checked the
-- run's status. Now, while no run of the batch fails or pauses for an approval, the update that makes a
-- successor ready in a running run leases it at once, as aiops_lease_steps would (attempt, started_at,
-- lease owner and expiry), up to p_continue steps; the continued steps are read in aiops_lease_steps' form
-- after the runs' update. Ready steps beyond that (and every ready step of a batch in which a run fails or
-- pauses) are leased by aiops_lease_steps as before. The batch's runs are locked as before, reading which
-- of them are running, and their rows stay locked to the end of the transaction, so a run cannot stop
-- between the check and the lease. Measured by replaying one logged completion of a step of bench:engine's
-- 1,000-step chain (its step reset to running in the same transaction, rolled back), old and new function
-- picked at random per transaction by one pgbench run of 6,000: 1.98 ms before, 1.81 ms after (over the
-- reset's own time).
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
  v_running uuid[];
  v_cap int;
  v_s_lease boolean[];
  v_leased uuid[] := '{}';
  v_new_leased uuid[];
  v_waiting boolean;
  v_tenant uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  v_runs uuid[] := ARRAY(SELECT DISTINCT (o->>'run_id')::uuid FROM jsonb_array_elements(p_outcomes) o);
BEGIN
  -- The batch's runs locked (in id order), and which of them are running: their successors may be leased
  -- to this worker by the update that makes them ready.
  SELECT coalesce(array_agg(x.id) FILTER (WHERE x.status = 'running'), '{}') INTO v_running
  FROM (SELECT id, status FROM workflow_executions WHERE id = ANY(v_runs) ORDER BY id FOR NO KEY UPDATE) x;

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

  -- Runs whose step failed for good fail; their other steps stop (below).
  SELECT jsonb_object_agg(run_id, jsonb_build_object('code', code, 'message', message)) INTO v_failed FROM (
    SELECT DISTINCT ON (o->>'run_id') o->>'run_id' AS run_id, coalesce(o->'error'->>'code', 'step_failed') AS code,
      'Step ' || (o->>'node_id') || ' failed: ' || coalesce(o->'error'->>'message', 'unknown error') AS message
    FROM jsonb_array_elements(p_outcomes) o WHERE v_final->>(o->>'id') = 'failed'
    ORDER BY o->>'run_id', o->>'node_id'
  ) f;
  -- Continuation in the successors' update: while no run of the batch fails or pauses, a successor that
  -- becomes ready in a running run is leased to this worker at once (as aiops_lease_steps would lease it),
  -- up to p_continue steps, instead of being written ready and then leased: one row version and one set of
  -- index entries less per continued step.
  v_cap := CASE WHEN v_failed IS NULL AND NOT v_waiting THEN p_continue ELSE 0 END;

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
    SELECT array_agg(s.id), array_agg(u.dec), array_agg(u.live),
      array_agg(u.run_id = ANY(v_running) AND v_cap >= cardinality(v_s_runs))
    INTO v_s_ids, v_s_dec, v_s_live, v_s_lease
    FROM unnest(v_s_runs, v_s_nodes, v_s_dec, v_s_live) AS u(run_id, node_id, dec, live),
    LATERAL (SELECT r.id FROM run_steps r WHERE r.run_id = u.run_id AND r.node_id = u.node_id LIMIT 1) s;
    WITH d AS (
      SELECT * FROM unnest(v_s_ids, v_s_dec, v_s_live, v_s_lease) AS d(id, dec, live, lease)
    ), ch AS (
      UPDATE run_steps r SET
        pending_inputs = r.pending_inputs - d.dec,
        live_inputs = r.live_inputs + d.live,
        status = CASE WHEN r.pending_inputs - d.dec > 0 THEN r.status
                      WHEN r.live_inputs + d.live = 0 THEN 'skipped'
                      WHEN d.lease THEN 'running' ELSE 'ready' END,
        attempt = CASE WHEN d.lease AND r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live > 0
                       THEN r.attempt + CASE WHEN coalesce((r.wait->>'resumed')::boolean, false) THEN 0 ELSE 1 END
                       ELSE r.attempt END,
        started_at = CASE WHEN d.lease AND r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live > 0
                          THEN CASE WHEN coalesce((r.wait->>'resumed')::boolean, false) THEN coalesce(r.started_at, now()) ELSE now() END
                          ELSE r.started_at END,
        lease_owner = CASE WHEN d.lease AND r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live > 0
                           THEN p_worker ELSE r.lease_owner END,
        lease_expires_at = CASE WHEN d.lease AND r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live > 0
                                THEN now() + make_interval(secs => p_lease_ms / 1000.0) ELSE r.lease_expires_at END,
        available_at = now(),
        completed_at = CASE WHEN r.pending_inputs - d.dec = 0 AND r.live_inputs + d.live = 0 THEN now() END,
        updated_at = now()
      -- Driven by d, one probe of the primary key per successor: with `r.id = ANY(v_s_ids)` as well, the
      -- plan started from run_steps and re-read d for every row (342 successors: 116,622 comparisons, 44 ms).
      FROM d WHERE r.id = d.id AND r.status = 'pending'
      RETURNING r.id, r.run_id, r.node_id, r.status
    )
    SELECT array_agg(id) FILTER (WHERE status = 'ready'), array_agg(run_id) FILTER (WHERE status = 'skipped'),
      array_agg(node_id) FILTER (WHERE status = 'skipped'), array_agg(id) FILTER (WHERE status = 'running')
    INTO v_new_ready, v_sk_runs, v_sk_nodes, v_new_leased FROM ch;
    v_ready := v_ready || coalesce(v_new_ready, '{}');
    v_leased := v_leased || coalesce(v_new_leased, '{}');
    v_cap := v_cap - coalesce(cardinality(v_new_leased), 0);
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

  -- Runs whose step failed for good fail; their other steps stop (below, after the successors).
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

  -- 4. Continuation: the steps leased above, in aiops_lease_steps' form (read after the runs' update, so
  -- runSpent includes this batch), then ready steps leased as before while this worker has room.
  IF cardinality(v_leased) > 0 THEN
    SELECT jsonb_agg(jsonb_build_object(
        'stepId', c.id, 'runId', c.run_id, 'organizationId', c.organization_id, 'nodeId', c.node_id,
        'attempt', c.attempt, 'failures', c.failures, 'wait', c.wait, 'workflowId', e.workflow_id,
        'workflowVersion', e.workflow_version, 'input', e.input_data, 'agentPins', e.agent_pins,
        'correlationId', e.correlation_id, 'depth', coalesce((e.metadata->>'depth')::int, 0),
        'runSpent', e.estimated_cost, 'orgBudget', (o.settings->>'monthlyBudgetUsd')::numeric,
        'orgSpent', CASE WHEN o.monthly_reset_date IS NULL OR o.monthly_reset_date <= now()::date THEN 0 ELSE o.monthly_cost_used END))
    INTO v_continued
    FROM run_steps c JOIN workflow_executions e ON e.id = c.run_id JOIN organizations o ON o.id = e.organization_id
    WHERE c.id = ANY(v_leased);
  END IF;
  IF array_length(v_ready, 1) > 0 THEN
    IF p_continue - cardinality(v_leased) > 0 THEN
      v_continued := v_continued || aiops_lease_steps(p_worker, v_ready[1:p_continue - cardinality(v_leased)], p_lease_ms);
    END IF;
    IF jsonb_array_length(v_continued) - cardinality(v_leased) < array_length(v_ready, 1) THEN
      PERFORM pg_notify('aiops_wake', '');
    END IF;
  END IF;

  RETURN jsonb_build_object('confirmed', v_final, 'continued', v_continued, 'finished', v_finished);
END
$$;
--> statement-breakpoint
-- aiops_record_observations (0046's body), called with every completion batch that has log lines or spans:
-- its one statement inserted the log lines in a data-modifying CTE and the spans in the main statement, so
-- a batch without spans (every step whose model span is not stored: the simulator's, most batches) still
-- planned and ran the spans' insert with ON CONFLICT into the partitioned table. The log lines and the spans
-- are now inserted each by its own statement, run only when the batch has some. It still returns the
-- number of spans inserted. Same replay as above: the observations' share of a completion 0.23 ms before,
-- 0.14 ms after.
CREATE OR REPLACE FUNCTION aiops_record_observations(p jsonb)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog SET enable_seqscan = off AS $$
DECLARE
  org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  n int := 0;
  v_runs uuid[];
BEGIN
  IF p IS NULL THEN RETURN 0; END IF;
  v_runs := ARRAY(SELECT DISTINCT (x->>'run_id')::uuid
                  FROM jsonb_array_elements(coalesce(p->'logs', '[]') || coalesce(p->'spans', '[]')) x);
  IF org IS NOT NULL AND EXISTS (
       SELECT 1 FROM workflow_executions r
       WHERE r.id = ANY(v_runs) AND r.organization_id <> org) THEN
    RAISE EXCEPTION 'run of another organization' USING ERRCODE = '42501';
  END IF;
  IF jsonb_array_length(coalesce(p->'logs', '[]')) > 0 THEN
    WITH runs AS MATERIALIZED (
      SELECT r.id, r.organization_id, coalesce(r.metadata->'trace'->>'traceId', replace(r.id::text, '-', '')) AS trace_id
      FROM workflow_executions r
      WHERE r.id = ANY(v_runs)
    )
    INSERT INTO execution_logs (organization_id, workflow_execution_id, run_step_id, attempt, node_id, level,
                                message, context, trace_id, span_id, parent_span_id, source, created_at)
    SELECT r.organization_id, r.id, l.step_id, l.attempt, l.node_id, l.level, l.message, coalesce(l.context, '{}'),
           r.trace_id, l.span_id, l.parent_span_id, coalesce(l.source, 'engine'), l.at
    FROM jsonb_to_recordset(coalesce(p->'logs', '[]')) AS l(run_id uuid, step_id uuid, attempt int, node_id text,
           level text, message text, context jsonb, span_id text, parent_span_id text, source text, at timestamptz)
    JOIN runs r ON r.id = l.run_id;
  END IF;
  IF jsonb_array_length(coalesce(p->'spans', '[]')) > 0 THEN
    WITH runs AS MATERIALIZED (
      SELECT r.id, r.organization_id, coalesce(r.metadata->'trace'->>'traceId', replace(r.id::text, '-', '')) AS trace_id
      FROM workflow_executions r
      WHERE r.id = ANY(v_runs)
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
  END IF;
  RETURN n;
END $$;
