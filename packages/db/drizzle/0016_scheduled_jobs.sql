CREATE TABLE "scheduled_job_runs" (
	"job" varchar(100) NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"status" varchar(20) NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"owner" varchar(200) NOT NULL,
	"lease_until" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"error" text,
	CONSTRAINT "scheduled_job_runs_job_due_at_pk" PRIMARY KEY("job","due_at")
);
--> statement-breakpoint
-- Maintenance work across organizations: only the owner role (db.system) claims and records runs.
REVOKE ALL ON "scheduled_job_runs" FROM aiops_app;
