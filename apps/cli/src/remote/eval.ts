import type { AiopsClient, paths } from '@aiops/sdk';
import { connect, EXIT, type GlobalOptions } from './connect.ts';
import { money } from './progress.ts';
import { UsageError } from './workflow-file.ts';
import { printTable, resolveWorkflow } from './workflows.ts';

export interface EvalRunOptions extends GlobalOptions {
  dataset?: string;
  workflow?: string;
  workflowVersion?: string;
  datasetVersion?: string;
  evaluator?: string[];
  parallelism?: string;
  minPassRate?: string;
  minScore?: string;
  json?: boolean;
}

type Json<T> = T extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;
type Experiment = Json<paths['/api/v1/experiments/{id}']['get']>;
type ExperimentItem = Json<paths['/api/v1/experiments/{id}/items']['get']>['data'][number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const POLL_MS = 500;

/** One of `all` by id or exact name; a UsageError naming what exists (and where to see it) otherwise. */
function pick<T extends { id: string; name: string }>(all: T[], ref: string, kind: string, where: string): T {
  const found = UUID.test(ref) ? all.filter((x) => x.id === ref) : all.filter((x) => x.name === ref);
  if (found.length > 1) throw new UsageError(`${ref}: ${found.length} ${kind}s have this name; use the id`);
  if (found[0]) return found[0];
  const names = all.map((x) => `"${x.name}"`);
  const known = names.length
    ? `${kind}s: ${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length})` : ''}`
    : `there are no ${kind}s yet`;
  throw new UsageError(`no ${kind} ${UUID.test(ref) ? 'with id' : 'named'} "${ref}" (${known}; ${where})`);
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

/** A positive integer option, or a UsageError. */
function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${value}: a whole number from 1`);
  return n;
}

/** A bar from the options: `--min-pass-rate` 0–1 (or a percentage, `80%`), `--min-score` a number. */
export function parseBar(options: Pick<EvalRunOptions, 'minPassRate' | 'minScore'>) {
  let minPassRate: number | undefined;
  if (options.minPassRate !== undefined) {
    const raw = options.minPassRate.trim();
    const n = raw.endsWith('%') ? Number(raw.slice(0, -1)) / 100 : Number(raw);
    if (!raw || !Number.isFinite(n) || n < 0 || n > 1)
      throw new UsageError(`--min-pass-rate ${options.minPassRate}: a share from 0 to 1 (or 0% to 100%)`);
    minPassRate = n;
  }
  let minScore: number | undefined;
  if (options.minScore !== undefined) {
    minScore = Number(options.minScore);
    if (!options.minScore.trim() || !Number.isFinite(minScore))
      throw new UsageError(`--min-score ${options.minScore}: a number`);
  }
  return { minPassRate, minScore };
}

/** Each evaluator's aggregate below the bar, as a sentence. */
export function shortfalls(exp: Experiment, bar: ReturnType<typeof parseBar>): string[] {
  const out: string[] = [];
  for (const a of exp.aggregates) {
    if (bar.minScore !== undefined && (a.mean === null || a.mean < bar.minScore))
      out.push(`${a.name}: mean score ${a.mean ?? 'none'} < ${bar.minScore}`);
    if (bar.minPassRate !== undefined && (a.passRate === null || a.passRate < bar.minPassRate))
      out.push(`${a.name}: pass rate ${pct(a.passRate)} < ${pct(bar.minPassRate)}`);
  }
  return out;
}

const pct = (v: number | null) => (v === null ? '-' : `${Math.round(v * 1000) / 10}%`);
const fmt = (v: number | null) => (v === null ? '-' : String(Math.round(v * 100) / 100));
const ms = (v: number | null) => (v === null ? '-' : v < 1000 ? `${v} ms` : `${(v / 1000).toFixed(1)} s`);

/** The first `n` characters of a value on one line (strings as they are, the rest as JSON). */
export function excerpt(value: unknown, n = 40): string {
  const text = (typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).replace(/\s+/g, ' ');
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/** Progress while the experiment runs: a redrawn bar on a terminal, a line per change otherwise. */
function progressOf(tty: boolean, title: string) {
  const stream = process.stdout;
  const started = Date.now();
  let last = '';
  let frame = 0;
  return (exp: Experiment, final = false) => {
    if (!tty) {
      const line = `progress ${exp.doneItems}/${exp.totalItems} items, ${exp.totals.tokens} tokens, ${money(exp.totals.costUsd)}`;
      if (line !== last) stream.write(`${line}\n`);
      last = line;
      return;
    }
    const width = 30;
    const filled = exp.totalItems ? Math.round((exp.doneItems / exp.totalItems) * width) : 0;
    const spin = final ? (exp.status === 'completed' ? '✔' : '■') : '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'[frame++ % 10];
    const line = `${spin} ${title} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${exp.doneItems}/${exp.totalItems} items  ${exp.totals.tokens} tokens  ${money(exp.totals.costUsd)}  ${ms(Date.now() - started)}`;
    const cols = stream.columns || 120;
    stream.write(`\r\x1b[K${line.length > cols ? `${line.slice(0, cols - 1)}…` : line}${final ? '\n' : ''}`);
  };
}

/** The results: a row per item, then mean, p50 and pass rate per evaluator, then a summary line. */
function printResults(exp: Experiment, items: ExperimentItem[]): void {
  const names = exp.evaluators.map((e) => e.name);
  printTable(
    ['#', 'INPUT', 'PASSED', ...names.map((n) => n.toUpperCase()), 'TOKENS', 'COST', 'LATENCY'],
    items.map((i) => {
      const scores = names.map((n) => i.scores.find((s) => s.name === n));
      const ran = i.status === 'scored' && i.runStatus === 'completed';
      const passed =
        i.status !== 'scored' ? i.status : !ran ? `no (run ${i.runStatus})` : scores.every((s) => s?.passed);
      return [
        String(i.position),
        excerpt(i.input),
        typeof passed === 'boolean' ? (passed ? 'yes' : 'no') : passed,
        ...scores.map((s) => (s ? `${fmt(s.score)} ${s.passed ? '✔' : '✖'}` : '-')),
        String(i.tokens),
        money(i.costUsd),
        ms(i.latencyMs),
      ];
    }),
  );
  process.stdout.write('\n');
  printTable(
    ['EVALUATOR', 'MEAN', 'P50', 'PASS RATE', 'SCORED'],
    exp.aggregates.map((a) => [a.name, fmt(a.mean), fmt(a.p50), pct(a.passRate), String(a.scored)]),
  );
  const t = exp.totals;
  process.stdout.write(
    `\nexperiment ${exp.id} ${exp.status}: ${exp.doneItems}/${exp.totalItems} items, ${t.failedRuns} failed runs, ${t.tokens} tokens, ${money(t.costUsd)}${t.meanLatencyMs !== null ? `, mean latency ${ms(t.meanLatencyMs)}` : ''}\n`,
  );
}

/** The evaluator ids of `--evaluator` (ids or names), each checked against the organization's list. */
async function resolveEvaluators(client: AiopsClient, refs: string[]): Promise<string[]> {
  const where = 'see them under Evaluations in the studio, or GET /api/v1/evaluators';
  const evaluators = await all(client.paginate('/api/v1/evaluators'));
  if (!refs.length) {
    const names = evaluators.map((e) => `"${e.name}"`).join(', ');
    throw new UsageError(
      `give at least one --evaluator (id or name)${names ? `: ${names}` : `; there are none yet (${where})`}`,
    );
  }
  return refs.map((r) => pick(evaluators, r, 'evaluator', where).id);
}

/**
 * `aiops eval run --dataset D --workflow W`: starts an experiment (POST /experiments) and follows it
 * (GET /experiments/:id every 500 ms) to its end, then prints its items and aggregates. Exit 0 when it
 * completed with every run completed and above the bar; 1 when a run failed or an evaluator fell short
 * of `--min-pass-rate` / `--min-score`; 3 when it was cancelled.
 */
export async function evalRun(options: EvalRunOptions): Promise<void> {
  if (!options.dataset) throw new UsageError('give the dataset: --dataset <id or name>');
  if (!options.workflow) throw new UsageError('give the workflow: --workflow <id or name>');
  const bar = parseBar(options);
  const workflowVersion = positive('--workflow-version', options.workflowVersion);
  const datasetVersion = positive('--dataset-version', options.datasetVersion);
  const parallelism = positive('--parallelism', options.parallelism);
  const { client } = connect(options);
  const datasets = await all(client.paginate('/api/v1/datasets'));
  const dataset = pick(
    datasets,
    options.dataset,
    'dataset',
    'see them under Evaluations → Datasets in the studio, or GET /api/v1/datasets',
  );
  const workflow = await resolveWorkflow(client, options.workflow);
  const evaluatorIds = await resolveEvaluators(client, options.evaluator ?? []);
  let exp = await client.call(
    client.api.POST('/api/v1/experiments', {
      body: {
        datasetId: dataset.id,
        workflowId: workflow.id,
        evaluatorIds,
        ...(workflowVersion ? { workflowVersion } : {}),
        ...(datasetVersion ? { datasetVersion } : {}),
        ...(parallelism ? { parallelism } : {}),
      },
    }),
  );
  const title = `${dataset.name} v${exp.datasetVersion} × ${workflow.name} v${exp.workflowVersion}`;
  const tty = !options.json && process.stdout.isTTY === true;
  const show = options.json ? undefined : progressOf(tty, title);
  if (!options.json && !tty) {
    process.stdout.write(
      `experiment ${exp.id} started: ${title}, ${exp.totalItems} items, evaluators ${exp.evaluators.map((e) => e.name).join(', ')}\n`,
    );
  }
  const onSignal = () => {
    process.stderr.write(
      `\naiops: stopped following; experiment ${exp.id} goes on (POST /api/v1/experiments/${exp.id}/cancel stops it)\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const get = () =>
      client.call(client.api.GET('/api/v1/experiments/{id}', { params: { path: { id: exp.id } } }));
    while (exp.status === 'running') {
      show?.(exp);
      await new Promise((r) => setTimeout(r, POLL_MS));
      exp = await get();
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  show?.(exp, true);
  const items = (
    await client.call(client.api.GET('/api/v1/experiments/{id}/items', { params: { path: { id: exp.id } } }))
  ).data;
  if (options.json) process.stdout.write(`${JSON.stringify({ ...exp, items }, null, 2)}\n`);
  else printResults(exp, items);
  const short = shortfalls(exp, bar);
  for (const s of short) process.stderr.write(`aiops: below the bar: ${s}\n`);
  if (exp.totals.failedRuns) process.stderr.write(`aiops: ${exp.totals.failedRuns} runs did not complete\n`);
  process.exitCode =
    exp.status === 'cancelled'
      ? EXIT.cancelled
      : exp.status !== 'completed' || short.length || exp.totals.failedRuns
        ? EXIT.failed
        : EXIT.ok;
}
