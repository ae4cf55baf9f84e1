-- Every process caches what a model call is routed by (an organization's integrations, decrypted; its model
-- aliases; its settings: budget and outbound policy). A change of any of it fires a NOTIFY on
-- aiops_model_config and every process drops that cache. The per-call counters (total_requests, tokens,
-- cost, last_used_at of integrations; monthly_cost_used of organizations) do not fire it.
CREATE OR REPLACE FUNCTION aiops_notify_model_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aiops_model_config', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER integrations_model_config_changed AFTER INSERT OR DELETE OR UPDATE OF organization_id, name, category,
  provider, config, credentials_encrypted, is_default, status, created_at ON integrations
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_model_config();
--> statement-breakpoint
CREATE TRIGGER model_aliases_model_config_changed AFTER INSERT OR DELETE OR UPDATE ON model_aliases
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_model_config();
--> statement-breakpoint
CREATE TRIGGER organizations_model_config_changed AFTER UPDATE OF settings, deleted_at OR DELETE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION aiops_notify_model_config();
