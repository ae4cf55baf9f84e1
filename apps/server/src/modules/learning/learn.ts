/**
 * Learning from use, incrementally: each observation adds to the running sums of one `learning_patterns`
 * row (user + type + key) in the caller's transaction, and the row's confidence and occurrences are
 * recomputed from those sums. A user's answers and ratings count twice: in the organization's aggregate
 * (`user_id` NULL) and in that user's own row (seed 001: patterns belong to a user), which only that user
 * can read (row-level security). Evaluations and workflows count for the organization only.
 *
 * - `ai_preference` (key `task|model`): answers, failures, cost and latency sums from every conversation
 *   answer; ratings (1–5 and 👍/👎, normalised to 0–1) and evaluation scores (0–1, `observeEvaluation`, the
 *   seam the evaluation feature calls) as quality evidence. Confidence grows with the quality samples.
 * - `terminology_usage` (key: the term's id): each glossary injection of the term, by source (written by the
 *   engine's `glossaryFor`).
 * - `workflow_pattern` (key: the step sequence): see `workflow-patterns.ts`.
 */
import { learningPatterns, type PatternType, type Tx } from '@aiops/db';
import { and, eq, isNull, sql } from 'drizzle-orm';

type Data = Record<string, unknown>;

/** Adds to one pattern: `apply` gets the current data (empty for a new row) and returns the new state. */
export async function upsertPattern(
  tx: Tx,
  type: PatternType,
  key: string,
  apply: (data: Data) => { data: Data; confidence: number; occurrences: number },
  userId: string | null = null,
): Promise<void> {
  const organizationId = sql`nullif(current_setting('app.org_id', true), '')::uuid`;
  await tx
    .insert(learningPatterns)
    .values({ organizationId: organizationId as never, userId, patternType: type, key })
    .onConflictDoNothing();
  const [row] = await tx
    .select()
    .from(learningPatterns)
    .where(
      and(
        eq(learningPatterns.patternType, type),
        eq(learningPatterns.key, key),
        userId ? eq(learningPatterns.userId, userId) : isNull(learningPatterns.userId),
      ),
    )
    .for('update');
  if (!row) return;
  const next = apply(row.data);
  await tx
    .update(learningPatterns)
    .set({
      data: next.data,
      confidence: Math.min(1, Math.max(0, next.confidence)).toFixed(4),
      occurrences: next.occurrences,
      lastSeenAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(learningPatterns.id, row.id));
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Confidence of a preference: how much quality evidence there is (10 samples ≈ 0.5). */
export const evidenceConfidence = (samples: number) => samples / (samples + 10);

function preference(
  taskKind: string,
  model: string,
  change: (d: Data) => void,
): (data: Data) => { data: Data; confidence: number; occurrences: number } {
  return (data) => {
    const d: Data = { taskKind, model, ...data };
    change(d);
    const samples = num(d.ratings) + num(d.evaluations);
    return { data: d, confidence: evidenceConfidence(samples), occurrences: num(d.answers) };
  };
}

export const preferenceKey = (taskKind: string, model: string) => `${taskKind}|${model}`.slice(0, 600);

/** Applies one observation to the organization's row, then (for a user's observation) to the user's own. */
async function forOrgAndUser(
  userId: string | null | undefined,
  apply: (userId: string | null) => Promise<void>,
) {
  await apply(null);
  if (userId) await apply(userId);
}

export function observeAnswer(
  tx: Tx,
  o: {
    userId: string | null;
    taskKind: string;
    model: string;
    costUsd: number;
    latencyMs: number;
    failed: boolean;
  },
) {
  return forOrgAndUser(o.userId, (userId) =>
    upsertPattern(
      tx,
      'ai_preference',
      preferenceKey(o.taskKind, o.model),
      preference(o.taskKind, o.model, (d) => {
        d.answers = num(d.answers) + 1;
        if (o.failed) d.failures = num(d.failures) + 1;
        else {
          d.costSum = num(d.costSum) + o.costUsd;
          d.latencySum = num(d.latencySum) + o.latencyMs;
          d.completed = num(d.completed) + 1;
        }
      }),
      userId,
    ),
  );
}

/** A rating as quality in [0, 1]: 👍 1, 👎 0, a score s of 1–5 → (s − 1) / 4. */
export const ratingQuality = (r: { thumbs?: 'up' | 'down' | undefined; score?: number | undefined }) =>
  r.thumbs ? (r.thumbs === 'up' ? 1 : 0) : (Math.min(5, Math.max(1, r.score ?? 3)) - 1) / 4;

/** A rating of an answer; `previous` (the answer's earlier rating, if any) is taken back first. */
export function observeRating(
  tx: Tx,
  o: {
    /** The user who rated (null: an API key). */
    userId: string | null;
    taskKind: string;
    model: string;
    quality: number;
    previous?: number | null | undefined;
    /** Who gave the previous rating: a user's own row takes back only that user's earlier rating. */
    previousBy?: string | null | undefined;
  },
) {
  return forOrgAndUser(o.userId, (userId) => {
    const previous = userId === null || o.previousBy === userId ? o.previous : null;
    return upsertPattern(
      tx,
      'ai_preference',
      preferenceKey(o.taskKind, o.model),
      preference(o.taskKind, o.model, (d) => {
        if (previous !== undefined && previous !== null) {
          d.ratings = Math.max(0, num(d.ratings) - 1);
          d.ratingSum = num(d.ratingSum) - previous;
        }
        d.ratings = num(d.ratings) + 1;
        d.ratingSum = num(d.ratingSum) + o.quality;
      }),
      userId,
    );
  });
}

/** An evaluation score in [0, 1] of a model on a kind of task (called by evaluations when they land). */
export function observeEvaluation(tx: Tx, o: { taskKind: string; model: string; score: number }) {
  return upsertPattern(
    tx,
    'ai_preference',
    preferenceKey(o.taskKind, o.model),
    preference(o.taskKind, o.model, (d) => {
      d.evaluations = num(d.evaluations) + 1;
      d.evaluationSum = num(d.evaluationSum) + Math.min(1, Math.max(0, o.score));
    }),
  );
}
