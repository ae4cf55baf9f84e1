import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { call, sdk } from '../../api/client.ts';
import type { Run, RunStatus } from '../../api/types.ts';
import { Button, buttonVariants } from '../../ui/button.tsx';
import { Field, Input, Select } from '../../ui/form.tsx';
import { formatCost, formatDuration, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { SortTh, Table, Td, Th, useSort } from '../../ui/table.tsx';

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

const RUN_COLUMNS = {
  status: (r: Run) => r.status,
  steps: (r: Run) => r.stepsCompleted,
  started: (r: Run) => r.startedAt ?? r.createdAt,
  duration: (r: Run) => r.durationMs,
  tokens: (r: Run) => r.tokens.total,
  cost: (r: Run) => r.cost,
  score: (r: Run) => r.scores?.mean ?? null,
};

/** A score bound from the URL: a number 0–100, else no bound. */
const bound = (v: string | undefined) => {
  const n = v === undefined || v.trim() === '' ? Number.NaN : Number(v);
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : undefined;
};

/** Runs, newest first, filtered by workflow, status, time and evaluation scores; the filters live in the URL. */
export default function RunsPage() {
  const search = useSearch({ from: '/app/runs' });
  const navigate = useNavigate();
  const workflowId = search.workflowId ?? '';
  const status = search.status ?? '';
  const since = search.since ?? '';
  const scored = search.scored === 'passed' || search.scored === 'failed' ? search.scored : '';
  const scoreMin = bound(search.scoreMin);
  const scoreMax = bound(search.scoreMax);
  const setFilter = (k: 'workflowId' | 'status' | 'since' | 'scored' | 'scoreMin' | 'scoreMax', v: string) =>
    void navigate({ to: '/runs', search: { ...search, [k]: v || undefined }, replace: true });
  const from = since && WINDOWS[since] ? new Date(Date.now() - WINDOWS[since]).toISOString() : undefined;
  const passed = scored === 'passed' ? 'true' : scored === 'failed' ? 'false' : undefined;
  const runs = useInfiniteQuery({
    queryKey: ['runs', workflowId, status, since, scored, scoreMin, scoreMax],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      call(
        sdk.api.GET('/api/v1/runs', {
          params: {
            query: {
              limit: 50,
              workflowId: workflowId || undefined,
              status: (status || undefined) as RunStatus | undefined,
              from,
              passed,
              scoreMin,
              scoreMax,
              cursor: pageParam,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    refetchInterval: 5000,
  });
  const list = runs.data?.pages.flatMap((p) => p.data) ?? [];
  const workflows = useQuery({
    queryKey: ['workflows'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 200 } } })),
  });
  const names = new Map((workflows.data?.data ?? []).map((w) => [w.id, w.name]));
  const { rows: sorted, sort } = useSort(list, RUN_COLUMNS);
  return (
    <section>
      <PageHeader title="Runs" />
      <form
        className="mb-3 flex flex-wrap gap-3 [&>label]:min-w-44"
        aria-label="Filters"
        onSubmit={(e) => e.preventDefault()}
      >
        <Field>
          Workflow
          <Select value={workflowId} onChange={(e) => setFilter('workflowId', e.target.value)}>
            <option value="">all</option>
            {(workflows.data?.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Status
          <Select value={status} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </Select>
        </Field>
        <Field>
          Started
          <Select value={since} onChange={(e) => setFilter('since', e.target.value)}>
            <option value="">any time</option>
            {Object.keys(WINDOWS).map((w) => (
              <option key={w} value={w}>
                in the last {w}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Scores
          <Select value={scored} onChange={(e) => setFilter('scored', e.target.value)}>
            <option value="">any</option>
            <option value="passed">all passed</option>
            <option value="failed">a score failed</option>
          </Select>
        </Field>
        <Field>
          Min score
          <Input
            type="number"
            min={0}
            max={100}
            defaultValue={search.scoreMin ?? ''}
            onChange={(e) => setFilter('scoreMin', e.target.value)}
          />
        </Field>
        <Field>
          Max score
          <Input
            type="number"
            min={0}
            max={100}
            defaultValue={search.scoreMax ?? ''}
            onChange={(e) => setFilter('scoreMax', e.target.value)}
          />
        </Field>
      </form>
      <ErrorText error={runs.error} />
      {runs.data && list.length === 0 && (
        <Empty
          title={
            workflowId || status || since || scored || scoreMin !== undefined || scoreMax !== undefined
              ? 'No runs match these filters'
              : 'No runs yet'
          }
        >
          <p>
            Open a workflow and press <strong>Run</strong>; its runs appear here, live.
          </p>
          <Link to="/workflows" className={buttonVariants()}>
            Go to workflows
          </Link>
        </Empty>
      )}
      {list.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Run</Th>
              <Th>Workflow</Th>
              <SortTh sort={sort} column="status">
                Status
              </SortTh>
              <SortTh sort={sort} column="steps">
                Steps
              </SortTh>
              <SortTh sort={sort} column="started">
                Started
              </SortTh>
              <SortTh sort={sort} column="duration">
                Duration
              </SortTh>
              <SortTh sort={sort} column="tokens">
                Tokens
              </SortTh>
              <SortTh sort={sort} column="cost">
                Cost
              </SortTh>
              <SortTh sort={sort} column="score">
                Score
              </SortTh>
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={r.id}>
                <Td>
                  <Link to="/runs/$id" params={{ id: r.id }}>
                    <code>{r.id.slice(0, 8)}</code>
                  </Link>
                </Td>
                <Td>
                  {names.get(r.workflowId) ?? r.workflowId.slice(0, 8)} v{r.workflowVersion}
                </Td>
                <Td>
                  <Status value={r.status} />
                </Td>
                <Td>
                  {r.stepsCompleted}/{r.stepsTotal}
                </Td>
                <Td>{formatTime(r.startedAt ?? r.createdAt)}</Td>
                <Td>{formatDuration(r.durationMs)}</Td>
                <Td>{r.tokens.total}</Td>
                <Td>{formatCost(r.cost)}</Td>
                <Td data-testid="run-score">
                  {r.scores ? (
                    <span title={`${r.scores.count} scores, ${r.scores.failed} failed`}>
                      {r.scores.mean} <Status value={r.scores.failed ? 'failed' : 'passed'} />
                    </span>
                  ) : (
                    <span className="text-muted-foreground">–</span>
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {runs.hasNextPage && (
        <Button type="button" onClick={() => void runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
          Load more
        </Button>
      )}
    </section>
  );
}
