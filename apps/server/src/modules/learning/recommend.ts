/**
 * "Which model for this task": the `ai_preference` patterns of a task kind, ranked by quality (ratings and
 * evaluation scores, smoothed toward 0.5 by a prior of 2 samples so that one 👍 does not win) times the
 * success rate; ties go to the cheaper, then the faster model. Each candidate carries its evidence.
 */
import { learningPatterns, type Tx } from '@aiops/db';
import { and, eq, isNull, sql } from 'drizzle-orm';

const PRIOR = 2;
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * For a signed-in user who rated answers of this task, the ranking uses that user's own ratings (their
 * `ai_preference` rows) in place of every member's, beside the organization's evaluations, answers, cost and
 * latency; until then (and for an API key) every member's ratings count. `scope` says which.
 */
export async function recommend(tx: Tx, task: string, limit: number, userId: string | null = null) {
  const rowsOf = (owner: string | null) =>
    tx
      .select()
      .from(learningPatterns)
      .where(
        and(
          eq(learningPatterns.patternType, 'ai_preference'),
          sql`${learningPatterns.data}->>'taskKind' = ${task}`,
          owner ? eq(learningPatterns.userId, owner) : isNull(learningPatterns.userId),
        ),
      )
      .limit(200);
  const orgRows = await rowsOf(null);
  const own = userId ? await rowsOf(userId) : [];
  const scope: 'user' | 'organization' = own.some((r) => num(r.data.ratings) > 0) ? 'user' : 'organization';
  const rows =
    scope === 'organization'
      ? orgRows
      : orgRows.map((r) => {
          const mine: Record<string, unknown> = own.find((o) => o.key === r.key)?.data ?? {};
          const data: Record<string, unknown> = {
            ...r.data,
            ratings: num(mine.ratings),
            ratingSum: num(mine.ratingSum),
          };
          return { ...r, data };
        });
  const candidates = rows
    .map((r) => {
      const d = r.data;
      const answers = num(d.answers);
      const completed = num(d.completed);
      const ratings = num(d.ratings);
      const evaluations = num(d.evaluations);
      const samples = ratings + evaluations;
      const quality = samples ? (num(d.ratingSum) + num(d.evaluationSum)) / samples : null;
      const avgCostUsd = completed ? num(d.costSum) / completed : null;
      const avgLatencyMs = completed ? Math.round(num(d.latencySum) / completed) : null;
      const successRate = answers ? completed / answers : null;
      const smoothed = (num(d.ratingSum) + num(d.evaluationSum) + PRIOR * 0.5) / (samples + PRIOR);
      return {
        model: String(d.model ?? r.key.split('|')[1] ?? r.key),
        score: Number((smoothed * (successRate ?? 1)).toFixed(4)),
        quality: quality === null ? null : Number(quality.toFixed(4)),
        qualityPerDollar: quality !== null && avgCostUsd ? Number((quality / avgCostUsd).toFixed(2)) : null,
        avgCostUsd,
        avgLatencyMs,
        successRate,
        samples: { answers, ratings, evaluations },
        confidence: Number(r.confidence),
      };
    })
    .sort(
      (a, b) =>
        b.score - a.score ||
        (a.avgCostUsd ?? Number.POSITIVE_INFINITY) - (b.avgCostUsd ?? Number.POSITIVE_INFINITY) ||
        (a.avgLatencyMs ?? Number.POSITIVE_INFINITY) - (b.avgLatencyMs ?? Number.POSITIVE_INFINITY),
    )
    .slice(0, limit);
  const best = candidates[0];
  const whose = scope === 'user' ? 'your ratings' : "all members' ratings";
  const reason = !best
    ? `nothing learned yet for task "${task}": rate some answers in conversations`
    : best.quality === null
      ? `no ratings or evaluations yet for task "${task}": ${best.model} ranks first on success rate, cost and latency only`
      : `${best.model}: quality ${best.quality} from ${best.samples.ratings} rating(s) and ${best.samples.evaluations} evaluation(s), success ${(((best.successRate ?? 1) as number) * 100).toFixed(0)}%, ${best.avgCostUsd === null ? 'cost unknown' : `$${best.avgCostUsd.toPrecision(3)} per answer`}${best.qualityPerDollar !== null ? ` (${best.qualityPerDollar} quality per dollar)` : ''}; counting ${whose}`;
  return { task, scope, recommended: best?.model ?? null, reason, candidates };
}
