-- Engine speed, part 4 (issue 13): what a batch of step outcomes costs the database.
-- 1. aiops_complete_steps_any_org (0022's body): the runs of a batch were found with
--    `e.id IN (SELECT run_id FROM v)`, which the planner (jsonb_to_recordset is estimated at 100 rows)
--    turned into a nested-loop semi join that scanned the whole batch for every step: quadratic, 85 of
--    the 110 ms that recording a batch of 500 steps spent in the run_steps update (auto_explain). The runs
--    are now looked up by an array of their ids, and the steps by theirs: probes of the primary key, not a
--    scan of every running step's entry in the partial index of leases (see the comment at the update).
-- 2. The outbox triggers ran once per row (a PL/pgSQL call, an EXISTS on event_sinks and an INSERT for
--    each step and each run): 64 µs per row each, about a tenth of a batch's time. They are now statement
--    triggers over transition tables: one INSERT … SELECT per statement, with the same events, payloads and
--    order (the rows' order in the statement). The NOTIFY on aiops_outbox is sent once per statement and
--    organization instead of once per row (PostgreSQL folded the equal ones per transaction anyway).
CREATE OR REPLACE FUNCTION aiops_outbox_run_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO event_outbox (organization_id, type, subject_id, payload)
  SELECT n.organization_id, x.type, n.id, jsonb_strip_nulls(jsonb_build_object(
    'runId', n.id, 'workflowId', n.workflow_id, 'workflowVersion', n.workflow_version,
    'status', n.status, 'triggeredBy', n.triggered_by, 'externalTriggerId', n.external_trigger_id,
    'correlationId', n.correlation_id, 'durationMs', n.duration_ms,
    'errorCode', n.error_code, 'errorMessage', left(n.error_message, 1000)))
  FROM new_runs n, LATERAL (SELECT CASE WHEN n.status = 'queued' THEN 'run.queued' ELSE 'workflow_started' END AS type) x;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- The old statuses are read into one jsonb map: a join of the two transition tables (no statistics) is
-- planned as a nested loop, quadratic in the statement's rows.
CREATE OR REPLACE FUNCTION aiops_outbox_run_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_old jsonb := (SELECT jsonb_object_agg(o.id, o.status) FROM old_runs o);
BEGIN
  INSERT INTO event_outbox (organization_id, type, subject_id, payload)
  SELECT n.organization_id, x.type, n.id, jsonb_strip_nulls(jsonb_build_object(
    'runId', n.id, 'workflowId', n.workflow_id, 'workflowVersion', n.workflow_version,
    'status', n.status, 'triggeredBy', n.triggered_by, 'externalTriggerId', n.external_trigger_id,
    'correlationId', n.correlation_id, 'durationMs', n.duration_ms,
    'errorCode', n.error_code, 'errorMessage', left(n.error_message, 1000),
    'totalTokens', CASE WHEN x.type = 'workflow_finished' THEN n.total_tokens_used END,
    'estimatedCost', CASE WHEN x.type = 'workflow_finished' THEN n.estimated_cost END))
  FROM new_runs n, LATERAL (SELECT v_old->>n.id::text AS status) o,
  LATERAL (SELECT CASE
      WHEN n.status IN ('completed', 'failed', 'cancelled', 'timeout') THEN 'workflow_finished'
      WHEN n.status = 'paused' THEN 'run.paused'
      WHEN o.status = 'paused' THEN 'run.resumed'
      WHEN o.status = 'queued' AND n.status = 'pending' THEN 'workflow_started'
      ELSE NULL END AS type) x
  WHERE n.status IS DISTINCT FROM o.status AND x.type IS NOT NULL;
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER aiops_outbox_run ON workflow_executions;
--> statement-breakpoint
DROP FUNCTION aiops_outbox_run();
--> statement-breakpoint
CREATE TRIGGER aiops_outbox_run_insert AFTER INSERT ON workflow_executions
  REFERENCING NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION aiops_outbox_run_insert();
--> statement-breakpoint
-- A transition table cannot go with a column list (UPDATE OF status): the function compares the statuses.
CREATE TRIGGER aiops_outbox_run_update AFTER UPDATE ON workflow_executions
  REFERENCING OLD TABLE AS old_runs NEW TABLE AS new_runs FOR EACH STATEMENT EXECUTE FUNCTION aiops_outbox_run_update();
--> statement-breakpoint
-- Step attempts: agent nodes give seed 003's agent_task_completed / agent_task_failed; every attempt gives
-- step.completed / step.failed only for organizations with a sink that asks for step events. Per attempt,
-- in the statement's order: its agent_task event, then its step event.
CREATE OR REPLACE FUNCTION aiops_outbox_step() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO event_outbox (organization_id, type, subject_id, payload)
  SELECT a.organization_id, e.type, a.workflow_execution_id, a.payload
  FROM (
    SELECT n.organization_id, n.workflow_execution_id, n.node_type, n.status, row_number() OVER () AS ord,
      jsonb_strip_nulls(jsonb_build_object(
        'runId', n.workflow_execution_id, 'nodeId', n.node_id, 'nodeType', n.node_type,
        'agentId', n.agent_id, 'agentVersion', n.agent_version, 'attempt', n.attempt, 'status', n.status,
        'durationMs', n.duration_ms, 'totalTokens', n.total_tokens, 'estimatedCost', n.estimated_cost,
        'model', n.model, 'error', n.error_details)) AS payload
    FROM new_attempts n WHERE n.status IN ('completed', 'failed')
  ) a
  LEFT JOIN (
    SELECT DISTINCT s.organization_id FROM event_sinks s
    WHERE s.enabled AND s.event_types ?| ARRAY['step.*', 'step.completed', 'step.failed']
      AND s.organization_id IN (SELECT organization_id FROM new_attempts)
  ) k ON k.organization_id = a.organization_id,
  LATERAL (VALUES (1, CASE WHEN a.node_type = 'agent' THEN 'agent_task_' || a.status END),
                  (2, CASE WHEN k.organization_id IS NOT NULL THEN 'step.' || a.status END)) e(n, type)
  WHERE e.type IS NOT NULL
  ORDER BY a.ord, e.n;
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER aiops_outbox_step ON agent_executions;
--> statement-breakpoint
CREATE TRIGGER aiops_outbox_step AFTER INSERT ON agent_executions
  REFERENCING NEW TABLE AS new_attempts FOR EACH STATEMENT EXECUTE FUNCTION aiops_outbox_step();
--> statement-breakpoint
-- The live event stream (GET /events/stream) wakes on a NOTIFY on aiops_outbox carrying the organization id.
CREATE OR REPLACE FUNCTION aiops_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiops_outbox', x.organization_id::text)
  FROM (SELECT DISTINCT organization_id FROM new_events) x;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER event_outbox_notify ON event_outbox;
--> statement-breakpoint
CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_outbox();
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_outbox_run_insert(), aiops_outbox_run_update(), aiops_outbox_step() FROM public;
--> statement-breakpoint
-- 0022's body; only the lookups of the batch's runs and steps changed (v_runs, v_steps).
CREATE OR REPLACE FUNCTION aiops_complete_steps_any_org(p_worker text, p_outcomes jsonb, p_continue int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_final jsonb;
  v_dec jsonb;
  v_changed jsonb;
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
  v_steps uuid[] := ARRAY(SELECT (o->>'id')::uuid FROM jsonb_array_elements(p_outcomes) o);
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
    WHERE r.id = ANY(v_steps) AND r.id = v.id AND r.lease_owner = p_worker
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
  WHERE e.id = w.run_id AND e.status IN ('pending', 'running');

  -- A step now waiting for a child run that already ended resumes at once.
  PERFORM aiops_resume_parents(ARRAY(
    SELECT (o->'wait'->>'runId')::uuid FROM jsonb_array_elements(p_outcomes) o
    WHERE v_final->>(o->>'id') = 'waiting' AND o->'wait'->>'kind' = 'subworkflow'));
  END IF;

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
--> statement-breakpoint
-- 3. Claiming and leasing (0009's aiops_claim_steps, renamed in 0014; 0022's aiops_lease_steps_any_org):
--    a step's run was joined with `e.status IN ('pending', 'running')`, which matches the predicate of the
--    partial index idx_executions_active_key; on a table grown since its last ANALYZE the planner read that
--    index (every active run of the workflow) once per step instead of probing the run's primary key. The
--    run's status is now read by its id, and the steps by their ids (not a scan of the partial index of every
--    ready step, the whole backlog, for each lease). The runs a lease starts were found with `IN (SELECT … FROM
--    claimed)`, a nested-loop semi join over the claimed steps for every active run: now an id array.
CREATE OR REPLACE FUNCTION aiops_claim_steps_any_org(p_worker text, p_limit int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_start uuid := gen_random_uuid();
  v_orgs uuid[];
  v_more uuid[];
  v_ids uuid[];
  v_per int;
BEGIN
  WITH RECURSIVE o AS (
    (SELECT s.organization_id FROM run_steps s
     WHERE s.status = 'ready' AND s.available_at <= now() AND s.organization_id >= v_start
     ORDER BY s.organization_id LIMIT 1)
    UNION ALL
    SELECT (SELECT s.organization_id FROM run_steps s
            WHERE s.status = 'ready' AND s.available_at <= now() AND s.organization_id > o.organization_id
            ORDER BY s.organization_id LIMIT 1)
    FROM o WHERE o.organization_id IS NOT NULL
  )
  SELECT array_agg(organization_id) INTO v_orgs FROM (SELECT organization_id FROM o WHERE organization_id IS NOT NULL LIMIT 64) x;
  IF coalesce(array_length(v_orgs, 1), 0) < 64 THEN
    WITH RECURSIVE o AS (
      (SELECT s.organization_id FROM run_steps s
       WHERE s.status = 'ready' AND s.available_at <= now()
       ORDER BY s.organization_id LIMIT 1)
      UNION ALL
      SELECT (SELECT s.organization_id FROM run_steps s
              WHERE s.status = 'ready' AND s.available_at <= now() AND s.organization_id > o.organization_id
                AND s.organization_id < v_start
              ORDER BY s.organization_id LIMIT 1)
      FROM o WHERE o.organization_id IS NOT NULL
    )
    SELECT array_agg(organization_id) INTO v_more
    FROM (SELECT organization_id FROM o WHERE organization_id IS NOT NULL AND organization_id < v_start
          LIMIT 64 - coalesce(array_length(v_orgs, 1), 0)) x;
    v_orgs := coalesce(v_orgs, '{}') || coalesce(v_more, '{}');
  END IF;
  IF coalesce(array_length(v_orgs, 1), 0) = 0 THEN
    RETURN '[]'::jsonb;
  END IF;
  v_per := greatest(1, ceil(p_limit::numeric / array_length(v_orgs, 1)));
  SELECT array_agg(id) INTO v_ids FROM (
    SELECT c.id FROM unnest(v_orgs) AS org(id),
    LATERAL (
      SELECT s.id FROM run_steps s
      WHERE s.organization_id = org.id AND s.status = 'ready' AND s.available_at <= now()
        AND (SELECT e.status FROM workflow_executions e WHERE e.id = s.run_id) IN ('pending', 'running')
      ORDER BY s.available_at LIMIT v_per
      FOR UPDATE OF s SKIP LOCKED
    ) c
    LIMIT p_limit
  ) x;
  IF v_ids IS NULL THEN
    RETURN '[]'::jsonb;
  END IF;
  RETURN aiops_lease_steps(p_worker, v_ids, p_lease_ms);
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aiops_lease_steps_any_org(p_worker text, p_ids uuid[], p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_result jsonb;
  v_tenant uuid := nullif(current_setting('app.org_id', true), '')::uuid;
BEGIN
  WITH claimed AS (
    UPDATE run_steps r
    SET status = 'running',
        attempt = r.attempt + CASE WHEN coalesce((r.wait->>'resumed')::boolean, false) THEN 0 ELSE 1 END,
        started_at = CASE WHEN coalesce((r.wait->>'resumed')::boolean, false) THEN coalesce(r.started_at, now()) ELSE now() END,
        lease_owner = p_worker,
        lease_expires_at = now() + make_interval(secs => p_lease_ms / 1000.0), updated_at = now()
    -- IS NOT DISTINCT FROM: see aiops_complete_steps_any_org (here the partial index is idx_run_steps_ready).
    WHERE r.id = ANY(p_ids) AND r.status IS NOT DISTINCT FROM 'ready'
      AND (SELECT e.status FROM workflow_executions e WHERE e.id = r.run_id) IN ('pending', 'running')
      AND (v_tenant IS NULL OR r.organization_id = v_tenant)
    RETURNING r.id, r.run_id, r.organization_id, r.node_id, r.attempt, r.failures, r.wait
  ), started AS (
    UPDATE workflow_executions e SET status = 'running', started_at = coalesce(e.started_at, now()), updated_at = now()
    WHERE e.id = ANY(ARRAY(SELECT DISTINCT run_id FROM claimed)) AND e.status = 'pending'
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
  -- Runs created in this same transaction (aiops_create_and_lease) have no one to tell yet.
  IF jsonb_array_length(v_result) > 0 AND coalesce(current_setting('aiops.lease_created', true), '') = '' THEN
    -- Leased steps leave their runs open.
    PERFORM aiops_notify_open_ids(ARRAY(SELECT DISTINCT s->>'runId' FROM jsonb_array_elements(v_result) s));
  END IF;
  RETURN v_result;
END
$$;
--> statement-breakpoint
-- 4. The ledger row of each attempt (0018's aiops_usage_attempts) named its run's workflow through a join of
--    the transition table with workflow_executions, which the planner ran as a hash join over a sequential
--    scan of the whole table: every batch of completions read every run ever made. The workflow is now
--    read by the run's primary key (a scalar subquery: a join, even LATERAL, is flattened back into the hash
--    join). Every attempt has its run (foreign key), so the rows written are the same.
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
    a.created_at, 'agent_execution', a.id,
    (SELECT e.workflow_id FROM workflow_executions e WHERE e.id = a.workflow_execution_id), a.model, a.input_tokens, a.output_tokens,
    a.cached_input_tokens,
    jsonb_build_object('runId', a.workflow_execution_id, 'nodeId', a.node_id, 'attempt', a.attempt,
      'status', a.status, 'reasoningTokens', a.reasoning_tokens, 'estimated', a.tokens_estimated,
      'cachedResponse', a.cached),
    'attempt:' || a.workflow_execution_id || ':' || a.node_id || ':' || a.attempt
  FROM new_attempts a
  WHERE a.model IS NOT NULL OR a.total_tokens > 0 OR a.estimated_cost > 0
  ON CONFLICT (organization_id, source_key) DO NOTHING;
  RETURN NULL;
END
$$;
