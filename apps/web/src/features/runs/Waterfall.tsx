import type { RunDetail } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { cn } from '../../ui/cn.ts';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { Status } from '../../ui/page.tsx';

/** The run's steps on one time axis: when each attempt started and how long it took. */
export function Waterfall({ run, onSelect }: { run: RunDetail; onSelect: (nodeId: string) => void }) {
  const t = (s: string | null) => (s ? new Date(s).getTime() : null);
  const start = t(run.startedAt) ?? t(run.createdAt)!;
  const steps = run.steps
    .filter((s) => s.startedAt || s.attempts.length)
    .sort((a, b) => (t(a.startedAt) ?? 0) - (t(b.startedAt) ?? 0));
  const end = Math.max(
    t(run.completedAt) ?? Date.now(),
    ...steps.map((s) => t(s.completedAt) ?? Date.now()),
    start + 1,
  );
  const span = end - start;
  const pct = (ms: number) => `${Math.max(0, Math.min(100, (ms / span) * 100))}%`;
  if (steps.length === 0)
    return <p className="text-xs font-normal text-muted-foreground">No step has started yet.</p>;
  return (
    <div className="rounded-lg border bg-card p-2" data-testid="timeline">
      <div className="grid grid-cols-[200px_1fr_220px] items-center gap-2.5 border-b py-1 text-xs text-muted-foreground">
        <span>Step</span>
        <span>0 – {formatDuration(span)}</span>
        <span>Duration · tokens · cost</span>
      </div>
      {steps.map((s) => {
        const tokens = s.attempts.reduce((n, a) => n + a.tokens.total, 0);
        const cost = s.attempts.reduce((n, a) => n + a.cost, 0);
        const from = t(s.startedAt) ?? start;
        const to = t(s.completedAt) ?? Date.now();
        return (
          <div
            className="grid grid-cols-[200px_1fr_220px] items-center gap-2.5 py-1"
            key={s.nodeId}
            data-testid={`timeline-${s.nodeId}`}
          >
            <Button type="button" variant="link" onClick={() => onSelect(s.nodeId)}>
              {s.nodeId} <Status value={s.status} />
            </Button>
            <span className="relative h-4 rounded bg-muted">
              <span
                className={cn(
                  'absolute top-0.5 h-3 min-w-0.5 rounded-sm bg-sky-400',
                  s.status === 'completed' && 'bg-green-500',
                  s.status === 'failed' && 'bg-red-500',
                )}
                style={{ left: pct(from - start), width: pct(Math.max(to - from, span / 200)) }}
                title={`${s.nodeId}: ${s.status}, ${formatDuration(to - from)}`}
              />
              {s.attempts.length > 1 &&
                s.attempts.map((a) => {
                  const af = t(a.startedAt) ?? from;
                  return (
                    <span
                      key={a.id}
                      className="absolute top-0 h-4 w-0.5 bg-foreground"
                      style={{ left: pct(af - start) }}
                      title={`attempt ${a.attempt}: ${a.status}`}
                    />
                  );
                })}
            </span>
            <span>
              {formatDuration(to - from)} · {tokens} tok · {formatCost(cost)}
            </span>
          </div>
        );
      })}
    </div>
  );
}
