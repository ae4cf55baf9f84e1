-- Row-level security on the global identity tables, and the engine's SECURITY DEFINER functions bound to
-- the caller's organization when one is set.
--
-- `app.user_id` (set by withTenant when the caller is a user, transaction-local like `app.org_id`) names
-- the user acting. A user sees and changes their own row, tokens and identities; the members of the
-- current organization (`app.org_id`) see each other's user rows (member lists, audit actors) but cannot
-- change them. Sign-in lookups (by email, by token hash, by provider identity) run in `db.system`.
ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "user_self" ON "users" AS PERMISSIVE FOR ALL TO public
  USING ("users"."id" = nullif(current_setting('app.user_id', true), '')::uuid)
  WITH CHECK ("users"."id" = nullif(current_setting('app.user_id', true), '')::uuid);
--> statement-breakpoint
CREATE POLICY "organization_members_read" ON "users" AS PERMISSIVE FOR SELECT TO public
  USING ("users"."id" IN (
    SELECT m.user_id FROM memberships m
    WHERE m.organization_id = nullif(current_setting('app.org_id', true), '')::uuid));
--> statement-breakpoint
ALTER TABLE "user_tokens" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "user_self" ON "user_tokens" AS PERMISSIVE FOR ALL TO public
  USING ("user_tokens"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid)
  WITH CHECK ("user_tokens"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);
--> statement-breakpoint
ALTER TABLE "auth_identities" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "user_self" ON "auth_identities" AS PERMISSIVE FOR ALL TO public
  USING ("auth_identities"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid)
  WITH CHECK ("auth_identities"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);
--> statement-breakpoint
-- Raises (42501) when an organization is set (`app.org_id`) and any of `p_orgs` is another one. With no
-- organization set (the worker's own context) everything passes: the queue crosses tenants.
CREATE OR REPLACE FUNCTION aiops_assert_org(p_orgs uuid[], p_what text)
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
BEGIN
  IF v_org IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(p_orgs) o WHERE o IS DISTINCT FROM v_org) THEN
    RAISE EXCEPTION '% may act only for the organization of the transaction (app.org_id %)', p_what, v_org
      USING ERRCODE = '42501';
  END IF;
END
$$;
--> statement-breakpoint
-- Each privileged function keeps its body under a new name that only the owner may call; the public name
-- becomes a check of the organizations concerned, then the call.
ALTER FUNCTION aiops_lease_steps(text, uuid[], int) RENAME TO aiops_lease_steps_any_org;
--> statement-breakpoint
ALTER FUNCTION aiops_claim_steps(text, int, int) RENAME TO aiops_claim_steps_any_org;
--> statement-breakpoint
ALTER FUNCTION aiops_create_runs(jsonb, jsonb, timestamptz) RENAME TO aiops_create_runs_any_org;
--> statement-breakpoint
ALTER FUNCTION aiops_complete_steps(text, jsonb, int, int) RENAME TO aiops_complete_steps_any_org;
--> statement-breakpoint
ALTER FUNCTION aiops_admit_queued(uuid[]) RENAME TO aiops_admit_queued_any_org;
--> statement-breakpoint
ALTER FUNCTION aiops_resume_parents(uuid[]) RENAME TO aiops_resume_parents_any_org;
--> statement-breakpoint
ALTER FUNCTION aiops_add_org_cost(jsonb) RENAME TO aiops_add_org_cost_any_org;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_lease_steps_any_org(text, uuid[], int), aiops_claim_steps_any_org(text, int, int),
  aiops_create_runs_any_org(jsonb, jsonb, timestamptz), aiops_complete_steps_any_org(text, jsonb, int, int),
  aiops_admit_queued_any_org(uuid[]), aiops_resume_parents_any_org(uuid[]), aiops_add_org_cost_any_org(jsonb)
  FROM PUBLIC, aiops_app;
--> statement-breakpoint
CREATE FUNCTION aiops_lease_steps(p_worker text, p_ids uuid[], p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(SELECT DISTINCT organization_id FROM run_steps WHERE id = ANY(p_ids)),
      'aiops_lease_steps');
  END IF;
  RETURN aiops_lease_steps_any_org(p_worker, p_ids, p_lease_ms);
END
$$;
--> statement-breakpoint
-- Claiming takes ready steps of any organization: only in the worker's context (no organization set).
CREATE FUNCTION aiops_claim_steps(p_worker text, p_limit int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    RAISE EXCEPTION 'aiops_claim_steps claims across organizations: call it with no app.org_id set'
      USING ERRCODE = '42501';
  END IF;
  RETURN aiops_claim_steps_any_org(p_worker, p_limit, p_lease_ms);
END
$$;
--> statement-breakpoint
CREATE FUNCTION aiops_create_runs(p_runs jsonb, p_steps jsonb, p_now timestamptz)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(
      SELECT (r->>'organization_id')::uuid FROM jsonb_array_elements(p_runs) r
      UNION SELECT (s->>'organization_id')::uuid FROM jsonb_array_elements(p_steps) s
      UNION SELECT e.organization_id FROM workflow_executions e
        WHERE e.id IN (SELECT (r->>'parent_execution_id')::uuid FROM jsonb_array_elements(p_runs) r)),
      'aiops_create_runs');
  END IF;
  RETURN aiops_create_runs_any_org(p_runs, p_steps, p_now);
END
$$;
--> statement-breakpoint
CREATE FUNCTION aiops_complete_steps(p_worker text, p_outcomes jsonb, p_continue int, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(
      SELECT s.organization_id FROM run_steps s
        WHERE s.id IN (SELECT (o->>'id')::uuid FROM jsonb_array_elements(p_outcomes) o)
      UNION SELECT e.organization_id FROM workflow_executions e
        WHERE e.id IN (SELECT (o->>'run_id')::uuid FROM jsonb_array_elements(p_outcomes) o)),
      'aiops_complete_steps');
  END IF;
  RETURN aiops_complete_steps_any_org(p_worker, p_outcomes, p_continue, p_lease_ms);
END
$$;
--> statement-breakpoint
CREATE FUNCTION aiops_admit_queued(p_workflow_ids uuid[])
RETURNS int LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(SELECT organization_id FROM workflows WHERE id = ANY(p_workflow_ids)),
      'aiops_admit_queued');
  END IF;
  RETURN aiops_admit_queued_any_org(p_workflow_ids);
END
$$;
--> statement-breakpoint
CREATE FUNCTION aiops_resume_parents(p_child_ids uuid[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(
      SELECT e.organization_id FROM workflow_executions e WHERE e.id = ANY(p_child_ids)
      UNION SELECT s.organization_id FROM workflow_executions e JOIN run_steps s ON s.id = e.parent_step_id
        WHERE e.id = ANY(p_child_ids)),
      'aiops_resume_parents');
  END IF;
  PERFORM aiops_resume_parents_any_org(p_child_ids);
END
$$;
--> statement-breakpoint
CREATE FUNCTION aiops_add_org_cost(p_costs jsonb)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF current_setting('app.org_id', true) <> '' THEN
    PERFORM aiops_assert_org(ARRAY(SELECT (c->>'organization_id')::uuid FROM jsonb_array_elements(p_costs) c),
      'aiops_add_org_cost');
  END IF;
  PERFORM aiops_add_org_cost_any_org(p_costs);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_lease_steps(text, uuid[], int), aiops_claim_steps(text, int, int),
  aiops_create_runs(jsonb, jsonb, timestamptz), aiops_complete_steps(text, jsonb, int, int),
  aiops_admit_queued(uuid[]), aiops_resume_parents(uuid[]), aiops_add_org_cost(jsonb), aiops_assert_org(uuid[], text)
  FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_lease_steps(text, uuid[], int), aiops_claim_steps(text, int, int),
  aiops_create_runs(jsonb, jsonb, timestamptz), aiops_complete_steps(text, jsonb, int, int),
  aiops_admit_queued(uuid[]), aiops_resume_parents(uuid[]), aiops_add_org_cost(jsonb) TO aiops_app;
