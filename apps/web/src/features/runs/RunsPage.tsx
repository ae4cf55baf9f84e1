import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { get, qs } from '../../api/client.ts';
import type { Page, Run, RunStatus, WorkflowSummary } from '../../api/types.ts';
import { Link, navigate, usePath } from '../../app/router.tsx';
import { formatCost, formatDuration, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/kit.tsx';

const STATUSES: RunStatus[] = [
  'queued',
  'pending',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'timeout',
];
const WINDOWS: Record<string, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 604_800_000,
  '30d': 2_592_000_000,
};

/** Runs, newest first, filtered by workflow, status and time; the filters live in the URL. */
export default function RunsPage() {
  const path = usePath();
  const params = new URLSearchParams(path.split('?')[1] ?? '');
  const workflowId = params.get('workflowId') ?? '';
  const status = params.get('status') ?? '';
  const since = params.get('since') ?? '';
  const setFilter = (k: string, v: string) => {
    if (v) params.set(k, v);
    else params.delete(k);
    const s = params.toString();
    navigate(`/runs${s ? `?${s}` : ''}`, { replace: true });
  };
  const from = since && WINDOWS[since] ? new Date(Date.now() - WINDOWS[since]).toISOString() : undefined;
  const runs = useInfiniteQuery({
    queryKey: ['runs', workflowId, status, since],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      get<Page<Run>>(`/runs${qs({ limit: 50, workflowId, status, from, cursor: pageParam })}`),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 5000,
  });
  const list = runs.data?.pages.flatMap((p) => p.data) ?? [];
  const workflows = useQuery({
    queryKey: ['workflows'],
    queryFn: () => get<Page<WorkflowSummary>>('/workflows?limit=200'),
  });
  const names = new Map((workflows.data?.data ?? []).map((w) => [w.id, w.name]));
  return (
    <section>
      <PageHeader title="Runs" />
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Workflow
          <select value={workflowId} onChange={(e) => setFilter('workflowId', e.target.value)}>
            <option value="">all</option>
            {(workflows.data?.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Started
          <select value={since} onChange={(e) => setFilter('since', e.target.value)}>
            <option value="">any time</option>
            {Object.keys(WINDOWS).map((w) => (
              <option key={w} value={w}>
                in the last {w}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorText error={runs.error} />
      {runs.data && list.length === 0 && (
        <Empty title={workflowId || status || since ? 'No runs match these filters' : 'No runs yet'}>
          <p>
            Open a workflow and press <strong>Run</strong>; its runs appear here, live.
          </p>
          <Link to="/workflows" className="button">
            Go to workflows
          </Link>
        </Empty>
      )}
      {list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Run</th>
              <th>Workflow</th>
              <th>Status</th>
              <th>Steps</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Tokens</th>
              <th>Cost</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/runs/${r.id}`}>
                    <code>{r.id.slice(0, 8)}</code>
                  </Link>
                </td>
                <td>
                  {names.get(r.workflowId) ?? r.workflowId.slice(0, 8)} v{r.workflowVersion}
                </td>
                <td>
                  <Status value={r.status} />
                </td>
                <td>
                  {r.stepsCompleted}/{r.stepsTotal}
                </td>
                <td>{formatTime(r.startedAt ?? r.createdAt)}</td>
                <td>{formatDuration(r.durationMs)}</td>
                <td>{r.tokens.total}</td>
                <td>{formatCost(r.cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.hasNextPage && (
        <button type="button" onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
          Load more
        </button>
      )}
    </section>
  );
}
