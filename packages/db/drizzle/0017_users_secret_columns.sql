-- Members of one organization may read each other's users rows (names and emails for member lists), but
-- never the credentials in them: the application role loses SELECT on the password hash, the MFA secret
-- and the recovery-code hashes. A user reads their own through aiops_own_credentials() (app.user_id);
-- sign-in and the other cross-tenant lookups run as the owner (db.system), which column privileges do not
-- restrict.
REVOKE SELECT ON "users" FROM aiops_app;
--> statement-breakpoint
GRANT SELECT (
  id, email, username, email_verified, email_verified_at, auth_provider, auth_provider_id, full_name,
  first_name, last_name, avatar_url, preferences, mfa_enabled, mfa_last_used_step, failed_login_count,
  locked_until, password_changed_at, is_active, last_login_at, created_at, updated_at, deleted_at
) ON "users" TO aiops_app;
--> statement-breakpoint
CREATE FUNCTION aiops_own_credentials()
RETURNS TABLE (password_hash varchar, mfa_secret text, mfa_recovery_codes jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT u.password_hash, u.mfa_secret, u.mfa_recovery_codes FROM users u
  WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_own_credentials() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_own_credentials() TO aiops_app;
