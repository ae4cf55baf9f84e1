import { Link } from '@tanstack/react-router';
import { type ReactNode, useState } from 'react';
import type { Span, Trace } from '../../api/types.ts';
import { cn } from '../../ui/cn.ts';
import { formatCost, formatDuration, formatTime } from '../../ui/format.ts';
import { Json, Status } from '../../ui/page.tsx';
import { ManualScore, ScoreList, useRunScores } from '../evaluations/ManualScore.tsx';
import type { EvaluationResult } from '../evaluations/types.ts';

const KIND_BAR: Record<string, string> = {
  run: 'bg-slate-500',
  step: 'bg-sky-500',
  subworkflow: 'bg-indigo-500',
  model: 'bg-violet-500',
  tool: 'bg-amber-500',
  mcp: 'bg-orange-500',
};

const t = (s: string | null) => (s ? new Date(s).getTime() : null);

/** A run's step-attempt spans (and sub-workflow steps) carry their node and attempt number. */
const isAttempt = (s: Span) => (s.kind === 'step' || s.kind === 'subworkflow') && s.nodeId !== null;

/** The scores of one span: the run span's are the run-level ones, an attempt span's are its attempt's. */
function scoresOf(span: Span, results: EvaluationResult[]): EvaluationResult[] {
  if (span.kind === 'run') return results.filter((r) => r.nodeId === null && r.agentExecutionId === null);
  if (!isAttempt(span)) return [];
  return results.filter((r) => r.nodeId === span.nodeId && r.attempt === span.attempt);
}

/** A compact badge: how many scores, their mean, red when one failed. */
function ScoreBadge({ results }: { results: EvaluationResult[] }) {
  if (!results.length) return null;
  const mean = Math.round((results.reduce((n, r) => n + r.score, 0) / results.length) * 10) / 10;
  const failed = results.some((r) => !r.passed);
  return (
    <span
      className={cn(
        'shrink-0 rounded px-1 text-[11px] font-semibold',
        failed
          ? 'bg-red-100 text-red-900 dark:bg-red-900/50 dark:text-red-100'
          : 'bg-green-100 text-green-900 dark:bg-green-900/50 dark:text-green-100',
      )}
      title={`${results.length} score${results.length === 1 ? '' : 's'}, mean ${mean}${failed ? ', one failed' : ''}`}
      data-testid="span-score-badge"
    >
      ★ {mean}
      {results.length > 1 ? ` ×${results.length}` : ''}
    </span>
  );
}
const cost = (c: string | null) => (c === null ? null : Number(c));

/**
 * A trace as a waterfall (Langfuse-like): one row per span, indented by depth, its bar on the trace's time
 * axis; a span's details (input, output, attributes, tokens, cost) beside it. Given the run (`scoring`),
 * the run span and its step-attempt spans show their evaluation scores, and a person can score them.
 */
export function TraceView({
  trace,
  scoring,
}: {
  trace: Trace;
  scoring?: { runId: string; finished: boolean } | undefined;
}) {
  const scores = useRunScores(scoring?.runId ?? '', scoring?.finished ? 5000 : false, !!scoring);
  const results = scores.data?.data ?? [];
  const [selected, setSelected] = useState<string>(trace.rootSpanId);
  const span = trace.spans.find((s) => s.spanId === selected) ?? trace.spans[0];
  const start = Math.min(...trace.spans.map((s) => t(s.startTime)!));
  const end = Math.max(...trace.spans.map((s) => t(s.endTime) ?? Date.now()), start + 1);
  const total = end - start;
  const pct = (ms: number) => `${Math.max(0, Math.min(100, (ms / total) * 100))}%`;
  return (
    <div className="grid grid-cols-[minmax(0,1fr)_380px] gap-3">
      <div className="min-w-0 rounded-lg border bg-card p-2" data-testid="trace-waterfall">
        <div className="grid grid-cols-[minmax(180px,2fr)_3fr_150px] items-center gap-2 border-b py-1 text-xs text-muted-foreground">
          <span>Span</span>
          <span>0 – {formatDuration(total)}</span>
          <span>Duration · cost</span>
        </div>
        <ul aria-label="Spans">
          {trace.spans.map((s) => {
            const from = t(s.startTime)!;
            const to = t(s.endTime) ?? Date.now();
            return (
              <li key={`${s.traceId}:${s.spanId}`}>
                <button
                  type="button"
                  className={cn(
                    'grid w-full cursor-pointer grid-cols-[minmax(180px,2fr)_3fr_150px] items-center gap-2 rounded py-1 text-left text-sm hover:bg-muted',
                    s.spanId === span?.spanId && 'bg-muted',
                  )}
                  onClick={() => setSelected(s.spanId)}
                  aria-pressed={s.spanId === span?.spanId}
                  data-testid={`span-${s.kind}`}
                >
                  <span
                    className="flex min-w-0 items-center gap-1.5"
                    style={{ paddingLeft: `${s.depth * 14}px` }}
                  >
                    <span
                      className={cn(
                        'inline-block size-2 shrink-0 rounded-full',
                        KIND_BAR[s.kind] ?? 'bg-teal-500',
                      )}
                    />
                    <span className="truncate" title={s.name}>
                      {s.name}
                    </span>
                    {s.status === 'error' && <Status value="failed" />}
                    <ScoreBadge results={scoresOf(s, results)} />
                  </span>
                  <span className="relative h-4 rounded bg-muted/60">
                    <span
                      className={cn(
                        'absolute top-0.5 h-3 min-w-0.5 rounded-sm',
                        KIND_BAR[s.kind] ?? 'bg-teal-500',
                        s.status === 'error' && 'bg-red-500',
                      )}
                      style={{ left: pct(from - start), width: pct(Math.max(to - from, total / 300)) }}
                    />
                  </span>
                  <span className="text-xs text-muted-foreground">
                    {formatDuration(s.durationMs ?? (s.endTime ? to - from : null))}
                    {cost(s.cost) ? ` · ${formatCost(cost(s.cost))}` : ''}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      </div>
      {span && (
        <SpanDetail span={span}>
          {scoring && (span.kind === 'run' || isAttempt(span)) && (
            <section aria-label="Span scores" className="my-2 border-t pt-2">
              <h4 className="text-xs font-semibold text-muted-foreground">Scores</h4>
              <ScoreList results={scoresOf(span, results)} label={`Scores of ${span.name}`} />
              {scoring.finished && (
                <ManualScore
                  runId={scoring.runId}
                  label={span.name}
                  step={
                    span.kind === 'run' ? undefined : { nodeId: span.nodeId!, attempt: span.attempt ?? 1 }
                  }
                />
              )}
            </section>
          )}
        </SpanDetail>
      )}
    </div>
  );
}

function SpanDetail({ span, children }: { span: Span; children?: ReactNode }) {
  const childRun = span.attributes['aiops.child_run_id'];
  const attrs = Object.entries(span.attributes);
  return (
    <aside
      className="m-0 max-h-[720px] overflow-auto rounded-lg border bg-card p-4 shadow-xs"
      data-testid="span-detail"
    >
      <h3 className="mb-1 break-all text-base font-semibold">{span.name}</h3>
      <p className="mb-2 text-xs text-muted-foreground">
        {span.kind} ·{' '}
        <Status
          value={span.status === 'ok' ? 'completed' : span.status === 'error' ? 'failed' : span.status}
        />
      </p>
      {span.statusMessage && (
        <p className="my-1 text-sm text-destructive" role="alert">
          {span.statusMessage}
        </p>
      )}
      <dl className="grid grid-cols-[110px_1fr] gap-x-2 gap-y-1 text-sm [&_dt]:text-muted-foreground">
        <dt>Started</dt>
        <dd>{formatTime(span.startTime)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(span.durationMs)}</dd>
        {span.model && (
          <>
            <dt>Model</dt>
            <dd>{span.model}</dd>
          </>
        )}
        {span.totalTokens !== null && (
          <>
            <dt>Tokens</dt>
            <dd data-testid="span-tokens">
              {span.inputTokens ?? 0} in · {span.outputTokens ?? 0} out · {span.totalTokens} total
            </dd>
          </>
        )}
        {span.cost !== null && (
          <>
            <dt>Cost</dt>
            <dd data-testid="span-cost">{formatCost(Number(span.cost))}</dd>
          </>
        )}
        <dt>Span id</dt>
        <dd>
          <code>{span.spanId}</code>
        </dd>
        <dt>Trace id</dt>
        <dd>
          <code className="break-all">{span.traceId}</code>
        </dd>
      </dl>
      {typeof childRun === 'string' && (
        <p className="my-2 text-sm">
          Sub-workflow run:{' '}
          <Link to="/runs/$id" params={{ id: childRun }}>
            {childRun.slice(0, 8)}
          </Link>
        </p>
      )}
      {span.links.map((l) => (
        <p key={`${l.traceId}:${l.spanId}`} className="my-2 text-sm">
          Linked to{' '}
          <Link to="/traces/$traceId" params={{ traceId: l.traceId }}>
            trace {l.traceId.slice(0, 8)}
          </Link>{' '}
          span <code>{l.spanId}</code>
        </p>
      ))}
      {children}
      <Json label="Input" value={span.input} />
      <Json label="Output" value={span.output} />
      {attrs.length > 0 && (
        <figure className="my-2">
          <figcaption className="mb-1 text-xs font-semibold text-muted-foreground">Attributes</figcaption>
          <table className="w-full text-xs" data-testid="span-attributes">
            <tbody>
              {attrs.map(([k, v]) => (
                <tr key={k} className="border-b align-top">
                  <th scope="row" className="py-0.5 pr-2 text-left font-normal text-muted-foreground">
                    {k}
                  </th>
                  <td className="break-all py-0.5">{typeof v === 'string' ? v : JSON.stringify(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </figure>
      )}
    </aside>
  );
}
