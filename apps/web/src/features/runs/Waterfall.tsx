import type { RunDetail } from '../../api/types.ts';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { Status } from '../../ui/kit.tsx';

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
  if (steps.length === 0) return <p className="hint">No step has started yet.</p>;
  return (
    <div className="waterfall" data-testid="timeline">
      <div className="wf-row wf-head">
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
          <div className="wf-row" key={s.nodeId} data-testid={`timeline-${s.nodeId}`}>
            <button type="button" className="link" onClick={() => onSelect(s.nodeId)}>
              {s.nodeId} <Status value={s.status} />
            </button>
            <span className="wf-track">
              {s.attempts.length > 0 ? (
                s.attempts.map((a) => {
                  const af = t(a.startedAt) ?? from;
                  const at = t(a.completedAt) ?? to;
                  return (
                    <span
                      key={a.id}
                      className={`wf-bar status-${a.status}`}
                      style={{ left: pct(af - start), width: pct(Math.max(at - af, span / 400)) }}
                      title={`attempt ${a.attempt}: ${a.status}, ${formatDuration(at - af)}`}
                    />
                  );
                })
              ) : (
                <span
                  className={`wf-bar status-${s.status}`}
                  style={{ left: pct(from - start), width: pct(Math.max(to - from, span / 400)) }}
                />
              )}
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
