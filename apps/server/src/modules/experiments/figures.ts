/** One evaluator's score of one item; `score` is null when the evaluator could not score (judge error). */
export interface ItemScore {
  evaluatorId: string;
  name: string;
  score: number | null;
  passed: boolean;
  explanation: string | null;
}

export interface Aggregate {
  evaluatorId: string;
  name: string;
  mean: number | null;
  p50: number | null;
  /** Share of items (0–1) the evaluator passed; items it could not score count as not passed. */
  passRate: number | null;
  scored: number;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

/** The median (p50) of a list of numbers: the middle one, or the mean of the two middle ones. */
export function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Mean, p50 and pass rate per evaluator over the scored items (in the evaluators' order). */
export function aggregate(
  evaluators: { evaluatorId: string; name: string }[],
  items: ItemScore[][],
): Aggregate[] {
  return evaluators.map((e) => {
    const mine = items
      .map((scores) => scores.find((s) => s.evaluatorId === e.evaluatorId))
      .filter((s) => s !== undefined);
    const numbers = mine.map((s) => s.score).filter((s): s is number => s !== null);
    return {
      evaluatorId: e.evaluatorId,
      name: e.name,
      mean: numbers.length ? round(numbers.reduce((a, b) => a + b, 0) / numbers.length) : null,
      p50: median(numbers),
      passRate: mine.length ? round(mine.filter((s) => s.passed).length / mine.length, 4) : null,
      scored: numbers.length,
    };
  });
}

export interface PromotionBar {
  minScore?: number | undefined;
  minPassRate?: number | undefined;
}

export interface Shortfall {
  evaluator: string;
  figure: 'mean' | 'passRate';
  value: number | null;
  required: number;
}

/** Which evaluators fall short of the bar (empty: the version may be promoted). */
export function shortfalls(aggregates: Aggregate[], bar: PromotionBar): Shortfall[] {
  const out: Shortfall[] = [];
  for (const a of aggregates) {
    if (bar.minScore !== undefined && (a.mean === null || a.mean < bar.minScore))
      out.push({ evaluator: a.name, figure: 'mean', value: a.mean, required: bar.minScore });
    if (bar.minPassRate !== undefined && (a.passRate === null || a.passRate < bar.minPassRate))
      out.push({ evaluator: a.name, figure: 'passRate', value: a.passRate, required: bar.minPassRate });
  }
  return out;
}
