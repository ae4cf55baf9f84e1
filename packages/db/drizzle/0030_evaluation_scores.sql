-- Manual scores (issue 16): a person's 👍/👎 or 0–100 on a run or step attempt is an evaluation result with
-- source 'manual' (kind 'manual', created_by the user).
ALTER TABLE "evaluation_results" DROP CONSTRAINT "evaluation_results_source_check";--> statement-breakpoint
ALTER TABLE "evaluation_results" ADD CONSTRAINT "evaluation_results_source_check" CHECK ("evaluation_results"."source" in ('online', 'on_demand', 'manual'));