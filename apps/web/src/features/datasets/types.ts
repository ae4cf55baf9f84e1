/** The datasets and experiments API's shapes as the studio reads them (packages/contracts/src/datasets.ts). */
export interface Dataset {
  id: string;
  name: string;
  description: string | null;
  version: number;
  itemCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface DatasetItem {
  id: string;
  datasetId: string;
  input: unknown;
  expectedOutput: unknown;
  metadata: Record<string, unknown>;
  sourceRunId: string | null;
  addedInVersion: number;
  createdAt: string;
}

export interface Aggregate {
  evaluatorId: string;
  name: string;
  mean: number | null;
  p50: number | null;
  passRate: number | null;
  scored: number;
}

export interface Experiment {
  id: string;
  name: string;
  datasetId: string;
  datasetVersion: number;
  workflowId: string;
  workflowVersion: number;
  /** Set when the experiment runs an agent version alone (the workflow is its one-step harness). */
  agentId: string | null;
  agentVersion: number | null;
  evaluators: { evaluatorId: string; name: string; version: number }[];
  parallelism: number;
  status: 'running' | 'completed' | 'cancelled';
  purpose: string;
  totalItems: number;
  doneItems: number;
  aggregates: Aggregate[];
  totals: { costUsd: number; tokens: number; meanLatencyMs: number | null; failedRuns: number };
  createdAt: string;
  completedAt: string | null;
}

export interface ItemScore {
  evaluatorId: string;
  name: string;
  score: number | null;
  passed: boolean;
  explanation: string | null;
}

export interface ExperimentItem {
  id: string;
  datasetItemId: string;
  position: number;
  status: 'pending' | 'running' | 'scored';
  runId: string | null;
  runStatus: string | null;
  input: unknown;
  expectedOutput: unknown;
  output: unknown;
  scores: ItemScore[];
  latencyMs: number | null;
  costUsd: number;
  tokens: number;
  error: string | null;
}

export interface Comparison {
  base: Experiment;
  candidate: Experiment;
  aggregates: {
    name: string;
    baseMean: number | null;
    candidateMean: number | null;
    basePassRate: number | null;
    candidatePassRate: number | null;
    delta: number | null;
  }[];
  items: {
    datasetItemId: string;
    input: unknown;
    expectedOutput: unknown;
    baseOutput: unknown;
    candidateOutput: unknown;
    scores: {
      name: string;
      base: number | null;
      candidate: number | null;
      basePassed: boolean | null;
      candidatePassed: boolean | null;
    }[];
    regression: boolean;
    improvement: boolean;
  }[];
  regressions: number;
  improvements: number;
}

/** A JSON value in one short line for tables. */
export const short = (v: unknown, max = 120): string => {
  if (v === null || v === undefined) return '—';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

export const percent = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
