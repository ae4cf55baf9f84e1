-- Trigger speed (issue 15): the firings of many webhook requests (or of many due schedules) are inserted,
-- and later marked started, by one call each: one round trip instead of a transaction's four (BEGIN, role,
-- statement, COMMIT). Security definer because the callers set no tenant (rows of many organizations);
-- with a tenant set they refuse rows of another organization, like the engine's functions.
--
-- aiops_insert_firings: each row {id, organization_id, trigger_id, workflow_id, delivery_id, due_at,
-- payload, ord} becomes a firing, `starting` when its workflow is active (payload kept), else `skipped`
-- with the reason; a row whose (trigger, delivery id) or (trigger, due time) exists already is not
-- inserted (absent from the result: the caller reports the existing firing). p_async commits without
-- waiting for the WAL flush: only for callers whose answer waits for a later synchronous commit (the run's
-- creation flushes the WAL up to and past this one), or whose answer promises nothing.
CREATE FUNCTION aiops_insert_firings(p_rows jsonb, p_async boolean)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_result jsonb;
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(SELECT DISTINCT (r->>'organization_id')::uuid FROM jsonb_array_elements(p_rows) r),
      'aiops_insert_firings');
  END IF;
  IF p_async THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  WITH v AS (
    SELECT * FROM jsonb_to_recordset(p_rows) AS v(id uuid, organization_id uuid, trigger_id uuid, workflow_id uuid,
      delivery_id varchar(255), due_at timestamptz, payload jsonb, ord int)
  ), ins AS (
    INSERT INTO trigger_firings (id, organization_id, trigger_id, workflow_id, status, reason, due_at, delivery_id, payload)
    SELECT v.id, v.organization_id, v.trigger_id, v.workflow_id,
      CASE WHEN w.status = 'active' THEN 'starting' ELSE 'skipped' END,
      CASE WHEN w.status = 'active' THEN NULL
        ELSE 'the workflow is ' || coalesce(w.status, 'deleted') || '; only active workflows fire from triggers' END,
      v.due_at, v.delivery_id,
      CASE WHEN w.status = 'active' THEN v.payload END
    FROM v LEFT JOIN workflows w
      ON w.id = v.workflow_id AND w.organization_id = v.organization_id AND w.deleted_at IS NULL
    ORDER BY v.ord
    ON CONFLICT DO NOTHING
    RETURNING id, status, reason
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', ins.id, 'status', ins.status, 'reason', ins.reason)), '[]'::jsonb)
  INTO v_result FROM ins;
  RETURN v_result;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_insert_firings(jsonb, boolean) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_insert_firings(jsonb, boolean) TO aiops_app;
--> statement-breakpoint
-- Firings whose runs were created: each row {id, run_id} becomes `started` (its payload dropped), or at
-- once `done` when its run has ended already (a short run on the local worker often has: one row version
-- fewer than `started` then `done` by the trigger loop). Committed without waiting for the WAL flush: a
-- firing left `starting` by a crash is started again by the trigger loop with the same idempotency key,
-- which finds the run already created.
CREATE FUNCTION aiops_mark_firings_started(p_rows jsonb)
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  v_n int;
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  UPDATE trigger_firings f
  SET status = CASE WHEN e.status IS NULL OR e.status IN ('queued', 'pending', 'running', 'paused')
        THEN 'started' ELSE 'done' END,
      run_id = v.run_id, payload = NULL, updated_at = now()
  FROM jsonb_to_recordset(p_rows) AS v(id uuid, run_id uuid)
    LEFT JOIN workflow_executions e ON e.id = v.run_id
  WHERE f.id = v.id AND f.status = 'starting' AND (v_org IS NULL OR f.organization_id = v_org);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_mark_firings_started(jsonb) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_mark_firings_started(jsonb) TO aiops_app;
