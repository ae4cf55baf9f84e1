-- A NOTIFY on aiops_auth whenever something an authenticated API key depends on changes: the key itself
-- (revoked, re-scoped, expired), its creator's membership (role, grants, removal), the organization
-- (status, tier, deletion) or the user. Every server process drops its cached API-key checks on it.
CREATE OR REPLACE FUNCTION aiops_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiops_auth', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER api_keys_auth_changed AFTER UPDATE OF revoked_at, scopes, rate_limit, expires_at, user_id OR DELETE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_auth();
--> statement-breakpoint
CREATE TRIGGER memberships_auth_changed AFTER UPDATE OF role, permissions, user_id, organization_id OR DELETE ON memberships
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_auth();
--> statement-breakpoint
CREATE TRIGGER organizations_auth_changed AFTER UPDATE OF status, subscription_tier, deleted_at OR DELETE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_auth();
--> statement-breakpoint
CREATE TRIGGER users_auth_changed AFTER UPDATE OF is_active, deleted_at OR DELETE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_auth();
