CREATE TABLE "ai_template_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"content" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ai_template_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "ai_templates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"user_id" uuid,
	"name" varchar(255) NOT NULL,
	"description" text,
	"avatar_url" text,
	"category" varchar(100),
	"capabilities" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"system_prompt" text NOT NULL,
	"prompt_template" text DEFAULT '{{input.text}}' NOT NULL,
	"functions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"personality_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"knowledge_sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"model_config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"allowed_integrations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cost_limit_per_request" numeric(10, 2),
	"version" integer DEFAULT 1 NOT NULL,
	"is_public" boolean DEFAULT false NOT NULL,
	"is_marketplace" boolean DEFAULT false NOT NULL,
	"price" numeric(10, 2),
	"usage_count" integer DEFAULT 0 NOT NULL,
	"rating" numeric(3, 2) DEFAULT '0.00' NOT NULL,
	"source_agent_id" uuid,
	"source_listing_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ai_templates_price_check" CHECK ("ai_templates"."price" is null or "ai_templates"."price" >= 0)
);
--> statement-breakpoint
ALTER TABLE "ai_templates" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "marketplace_listings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"seller_id" uuid,
	"seller_name" varchar(255) NOT NULL,
	"name" varchar(255) NOT NULL,
	"description" text,
	"avatar_url" text,
	"category" varchar(100),
	"capabilities" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"allowed_integrations" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"price" numeric(10, 2) DEFAULT '0.00' NOT NULL,
	"currency" varchar(3) DEFAULT 'USD' NOT NULL,
	"template_version" integer NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"published_at" timestamp with time zone,
	"unpublished_at" timestamp with time zone,
	"last_error" text,
	"usage_count" integer DEFAULT 0 NOT NULL,
	"rating_sum" integer DEFAULT 0 NOT NULL,
	"rating_count" integer DEFAULT 0 NOT NULL,
	"rating" numeric(3, 2) DEFAULT '0.00' NOT NULL,
	"usage_metrics" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "marketplace_listings_status_check" CHECK ("marketplace_listings"."status" in ('pending', 'published', 'unpublished', 'error')),
	CONSTRAINT "marketplace_listings_price_check" CHECK ("marketplace_listings"."price" >= 0)
);
--> statement-breakpoint
ALTER TABLE "marketplace_listings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "template_purchases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"buyer_id" uuid,
	"listing_id" uuid NOT NULL,
	"seller_organization_id" uuid NOT NULL,
	"template_name" varchar(255) NOT NULL,
	"template_version" integer NOT NULL,
	"price" numeric(10, 2) NOT NULL,
	"platform_fee" numeric(10, 2) NOT NULL,
	"seller_payout" numeric(10, 2) NOT NULL,
	"currency" varchar(3) DEFAULT 'USD' NOT NULL,
	"payment_status" varchar(20) DEFAULT 'pending' NOT NULL,
	"payment_method" varchar(50),
	"transaction_id" varchar(255),
	"idempotency_key" varchar(255) NOT NULL,
	"installed_template_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	"refunded_at" timestamp with time zone,
	CONSTRAINT "template_purchases_status_check" CHECK ("template_purchases"."payment_status" in ('pending', 'completed', 'failed', 'refunded')),
	CONSTRAINT "template_purchases_sum_check" CHECK ("template_purchases"."platform_fee" >= 0 and "template_purchases"."seller_payout" >= 0 and "template_purchases"."platform_fee" + "template_purchases"."seller_payout" = "template_purchases"."price")
);
--> statement-breakpoint
ALTER TABLE "template_purchases" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "template_ratings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"user_name" varchar(255),
	"listing_id" uuid NOT NULL,
	"rating" integer NOT NULL,
	"review" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "template_ratings_rating_check" CHECK ("template_ratings"."rating" between 1 and 5)
);
--> statement-breakpoint
ALTER TABLE "template_ratings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "ai_template_versions" ADD CONSTRAINT "ai_template_versions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_template_versions" ADD CONSTRAINT "ai_template_versions_template_id_ai_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."ai_templates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_template_versions" ADD CONSTRAINT "ai_template_versions_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_templates" ADD CONSTRAINT "ai_templates_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ai_templates" ADD CONSTRAINT "ai_templates_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "marketplace_listings" ADD CONSTRAINT "marketplace_listings_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "marketplace_listings" ADD CONSTRAINT "marketplace_listings_template_id_ai_templates_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."ai_templates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "marketplace_listings" ADD CONSTRAINT "marketplace_listings_seller_id_users_id_fk" FOREIGN KEY ("seller_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_purchases" ADD CONSTRAINT "template_purchases_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_purchases" ADD CONSTRAINT "template_purchases_buyer_id_users_id_fk" FOREIGN KEY ("buyer_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_purchases" ADD CONSTRAINT "template_purchases_listing_id_marketplace_listings_id_fk" FOREIGN KEY ("listing_id") REFERENCES "public"."marketplace_listings"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_purchases" ADD CONSTRAINT "template_purchases_seller_organization_id_organizations_id_fk" FOREIGN KEY ("seller_organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_ratings" ADD CONSTRAINT "template_ratings_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_ratings" ADD CONSTRAINT "template_ratings_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_ratings" ADD CONSTRAINT "template_ratings_listing_id_marketplace_listings_id_fk" FOREIGN KEY ("listing_id") REFERENCES "public"."marketplace_listings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "ai_template_versions_key" ON "ai_template_versions" USING btree ("template_id","version");--> statement-breakpoint
CREATE INDEX "idx_ai_templates_org" ON "ai_templates" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_ai_templates_is_marketplace" ON "ai_templates" USING btree ("is_marketplace");--> statement-breakpoint
CREATE UNIQUE INDEX "marketplace_listings_template_key" ON "marketplace_listings" USING btree ("template_id");--> statement-breakpoint
CREATE INDEX "idx_marketplace_status" ON "marketplace_listings" USING btree ("status","rating" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "template_purchases_idempotency_key" ON "template_purchases" USING btree ("organization_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "idx_template_purchases_buyer" ON "template_purchases" USING btree ("organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_template_purchases_seller" ON "template_purchases" USING btree ("seller_organization_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "idx_template_purchases_listing" ON "template_purchases" USING btree ("listing_id");--> statement-breakpoint
CREATE UNIQUE INDEX "template_ratings_user_listing_key" ON "template_ratings" USING btree ("user_id","listing_id");--> statement-breakpoint
CREATE INDEX "idx_template_ratings_listing" ON "template_ratings" USING btree ("listing_id","updated_at" DESC NULLS LAST);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "ai_template_versions" AS PERMISSIVE FOR ALL TO public USING ("ai_template_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("ai_template_versions"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "ai_templates" AS PERMISSIVE FOR ALL TO public USING ("ai_templates"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("ai_templates"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "listing_read" ON "marketplace_listings" AS PERMISSIVE FOR SELECT TO public USING ("marketplace_listings"."status" = 'published' OR "marketplace_listings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "listing_insert" ON "marketplace_listings" AS PERMISSIVE FOR INSERT TO public WITH CHECK ("marketplace_listings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "listing_update" ON "marketplace_listings" AS PERMISSIVE FOR UPDATE TO public USING ("marketplace_listings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("marketplace_listings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "listing_delete" ON "marketplace_listings" AS PERMISSIVE FOR DELETE TO public USING ("marketplace_listings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "purchase_read" ON "template_purchases" AS PERMISSIVE FOR SELECT TO public USING ("template_purchases"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid OR "template_purchases"."seller_organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "purchase_insert" ON "template_purchases" AS PERMISSIVE FOR INSERT TO public WITH CHECK ("template_purchases"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "purchase_update" ON "template_purchases" AS PERMISSIVE FOR UPDATE TO public USING ("template_purchases"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid OR "template_purchases"."seller_organization_id" = nullif(current_setting('app.org_id', true), '')::uuid) WITH CHECK ("template_purchases"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid OR "template_purchases"."seller_organization_id" = nullif(current_setting('app.org_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "rating_read" ON "template_ratings" AS PERMISSIVE FOR SELECT TO public USING ("template_ratings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid OR EXISTS (SELECT 1 FROM marketplace_listings l WHERE l.id = "template_ratings"."listing_id"));--> statement-breakpoint
CREATE POLICY "rating_write" ON "template_ratings" AS PERMISSIVE FOR INSERT TO public WITH CHECK ("template_ratings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid AND "template_ratings"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "rating_update" ON "template_ratings" AS PERMISSIVE FOR UPDATE TO public USING ("template_ratings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid AND "template_ratings"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK ("template_ratings"."organization_id" = nullif(current_setting('app.org_id', true), '')::uuid AND "template_ratings"."user_id" = nullif(current_setting('app.user_id', true), '')::uuid);--> statement-breakpoint
-- Marketplace: what the application role may change, column by column. A seller confirms or refunds a
-- purchase but never rewrites its price, fee or payout; rating and usage aggregates are written only by
-- the functions below.
REVOKE UPDATE ON template_purchases FROM aiops_app;--> statement-breakpoint
GRANT UPDATE (payment_status, payment_method, transaction_id, completed_at, refunded_at, installed_template_id) ON template_purchases TO aiops_app;--> statement-breakpoint
REVOKE DELETE ON template_purchases FROM aiops_app;--> statement-breakpoint
REVOKE UPDATE ON marketplace_listings FROM aiops_app;--> statement-breakpoint
GRANT UPDATE (seller_id, seller_name, name, description, avatar_url, category, capabilities, allowed_integrations, price, currency, template_version, status, published_at, unpublished_at, last_error, updated_at) ON marketplace_listings TO aiops_app;--> statement-breakpoint
-- Rating aggregates: the listing row is locked, then sum and count are recomputed from the ratings, so
-- concurrent ratings serialize on the listing and the last one to commit sees every earlier one.
CREATE OR REPLACE FUNCTION aiops_rating_aggregate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  l uuid := COALESCE(NEW.listing_id, OLD.listing_id);
  s int;
  c int;
BEGIN
  -- NO KEY UPDATE: it does not conflict with the KEY SHARE lock the rating's foreign key check holds,
  -- so two raters never deadlock; it does conflict with another rater's NO KEY UPDATE, so they take turns.
  PERFORM 1 FROM marketplace_listings WHERE id = l FOR NO KEY UPDATE;
  SELECT COALESCE(sum(rating), 0), count(*) INTO s, c FROM template_ratings WHERE listing_id = l;
  UPDATE marketplace_listings
     SET rating_sum = s, rating_count = c,
         rating = CASE WHEN c = 0 THEN 0 ELSE round(s::numeric / c, 2) END
   WHERE id = l;
  UPDATE ai_templates t SET rating = CASE WHEN c = 0 THEN 0 ELSE round(s::numeric / c, 2) END
    FROM marketplace_listings m WHERE m.id = l AND t.id = m.template_id;
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER template_ratings_aggregate AFTER INSERT OR UPDATE OR DELETE ON template_ratings
  FOR EACH ROW EXECUTE FUNCTION aiops_rating_aggregate();--> statement-breakpoint
-- One use of an agent made from a template: counted on the template and, for an installed copy, on the
-- listing it was bought from and the seller's template (the seller's usage metric). With app.org_id set, only that org's templates.
CREATE OR REPLACE FUNCTION aiops_count_template_use(p_template uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  src uuid;
BEGIN
  UPDATE ai_templates SET usage_count = usage_count + 1
   WHERE id = p_template AND (org IS NULL OR organization_id = org)
  RETURNING source_listing_id INTO src;
  IF src IS NOT NULL THEN
    UPDATE marketplace_listings SET usage_count = usage_count + 1 WHERE id = src RETURNING template_id INTO src;
    UPDATE ai_templates SET usage_count = usage_count + 1 WHERE id = src;
  ELSE
    UPDATE marketplace_listings SET usage_count = usage_count + 1 WHERE template_id = p_template;
  END IF;
END $$;--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_count_template_use(uuid) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_count_template_use(uuid) TO aiops_app;--> statement-breakpoint
-- The private content of a bought template version, only for the buying organization of a completed
-- purchase (the one way a buyer reads a seller's template).
CREATE OR REPLACE FUNCTION aiops_purchased_content(p_purchase uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  org uuid := nullif(current_setting('app.org_id', true), '')::uuid;
  p template_purchases%ROWTYPE;
  body jsonb;
BEGIN
  SELECT * INTO p FROM template_purchases WHERE id = p_purchase;
  IF NOT FOUND OR org IS NULL OR p.organization_id <> org THEN
    RAISE EXCEPTION 'purchase % is not one of this organization''s', p_purchase USING ERRCODE = '42501';
  END IF;
  IF p.payment_status <> 'completed' THEN
    RAISE EXCEPTION 'purchase % is %, not completed', p_purchase, p.payment_status USING ERRCODE = '42501';
  END IF;
  SELECT v.content INTO body FROM marketplace_listings l
    JOIN ai_template_versions v ON v.template_id = l.template_id AND v.version = p.template_version
   WHERE l.id = p.listing_id;
  RETURN body;
END $$;--> statement-breakpoint
REVOKE ALL ON FUNCTION aiops_purchased_content(uuid) FROM PUBLIC;--> statement-breakpoint
GRANT EXECUTE ON FUNCTION aiops_purchased_content(uuid) TO aiops_app;
