-- Extensions and the application role. Written to run on PostgreSQL 15+ and on PGlite (PostgreSQL 18).
-- pg_trgm: trigram search (PGlite bundles it; PostgreSQL ships it in contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
--> statement-breakpoint
-- pgvector where the server has it; otherwise embeddings use the real[] fallback (see 0002).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    CREATE EXTENSION IF NOT EXISTS vector;
  END IF;
END
$$;
--> statement-breakpoint
-- The role the application works as. Not a superuser and not a table owner, so row-level security
-- applies to it. Roles are cluster-wide: create it only if another database has not already.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aiops_app') THEN
    CREATE ROLE aiops_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL; -- created concurrently by another database's migration
END
$$;
--> statement-breakpoint
-- The connecting (owner) role must be able to SET ROLE aiops_app.
DO $$
BEGIN
  EXECUTE format('GRANT aiops_app TO %I', current_user);
EXCEPTION WHEN others THEN
  NULL; -- superusers need no grant; other errors surface at SET ROLE with a clear message
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO aiops_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO aiops_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO aiops_app;
