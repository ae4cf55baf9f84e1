import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { cn } from '../../ui/cn.ts';
import { Check, Field, Input, Select } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';

const LEVELS: Record<string, string> = {
  '': 'all',
  'warning,error,critical': 'warning and above',
  'error,critical': 'error and above',
  debug: 'debug',
  info: 'info',
  warning: 'warning',
  error: 'error',
  critical: 'critical',
};

const LEVEL_CLASS: Record<string, string> = {
  debug: 'text-muted-foreground',
  info: 'text-sky-700 dark:text-sky-300',
  warning: 'text-amber-700 dark:text-amber-300',
  error: 'text-red-700 dark:text-red-300',
  critical: 'font-bold text-red-700 dark:text-red-300',
};

/**
 * A run's log lines: level and step filters, full-text search, pages on demand, and a live tail (each `log`
 * event of the run's stream refetches the filtered lines; `tick` counts them).
 */
export function LogsPanel({
  runId,
  nodeIds,
  tick,
  active,
}: {
  runId: string;
  nodeIds: string[];
  tick: number;
  active: boolean;
}) {
  const [level, setLevel] = useState('');
  const [stepId, setStepId] = useState('');
  const [draft, setDraft] = useState('');
  const [q, setQ] = useState('');
  const [tail, setTail] = useState(true);
  const logs = useInfiniteQuery({
    queryKey: ['run-logs', runId, level, stepId, q],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      call(
        sdk.api.GET('/api/v1/runs/{id}/logs', {
          params: {
            path: { id: runId },
            query: {
              level: level || undefined,
              stepId: stepId || undefined,
              q: q || undefined,
              limit: 200,
              cursor: pageParam,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const refetch = logs.refetch;
  useEffect(() => {
    if (tail && tick > 0) void refetch();
  }, [tick, tail, refetch]);
  const bottom = useRef<HTMLDivElement>(null);
  const lines = logs.data?.pages.flatMap((p) => p.logs) ?? [];
  useEffect(() => {
    if (tail && active && lines.length) bottom.current?.scrollIntoView?.({ block: 'nearest' });
  }, [lines.length, tail, active]);
  return (
    <div data-testid="logs-panel">
      <form
        className="mb-2 flex flex-wrap items-end gap-3 [&>label]:min-w-40"
        aria-label="Log filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(draft.trim());
        }}
      >
        <Field>
          Level
          <Select value={level} onChange={(e) => setLevel(e.target.value)} aria-label="Level">
            {Object.entries(LEVELS).map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Step
          <Select value={stepId} onChange={(e) => setStepId(e.target.value)} aria-label="Step">
            <option value="">all</option>
            {nodeIds.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </Select>
        </Field>
        <Field>
          Search
          <Input
            type="search"
            value={draft}
            placeholder="words, &quot;a phrase&quot;, -not"
            onChange={(e) => setDraft(e.target.value)}
            aria-label="Search logs"
            maxLength={200}
          />
        </Field>
        <Button type="submit">Search</Button>
        <Check>
          <input type="checkbox" checked={tail} onChange={(e) => setTail(e.target.checked)} /> Live tail
        </Check>
      </form>
      <ErrorText error={logs.error} />
      <div
        className="max-h-[560px] overflow-auto rounded-lg border bg-card font-mono text-xs"
        role="log"
        aria-label="Log lines"
      >
        {logs.data && lines.length === 0 && (
          <p className="p-3 font-sans text-muted-foreground">
            No log lines{level || stepId || q ? ' match these filters' : ' yet'}.
          </p>
        )}
        <table className="w-full">
          <tbody>
            {lines.map((l) => (
              <tr key={l.id} className="border-b align-top last:border-0" data-testid="log-line">
                <td className="whitespace-nowrap px-2 py-1 text-muted-foreground">
                  {new Date(l.at).toLocaleTimeString()}
                </td>
                <td className={cn('px-2 py-1 uppercase', LEVEL_CLASS[l.level])}>{l.level}</td>
                <td className="whitespace-nowrap px-2 py-1">{l.nodeId ?? ''}</td>
                <td className="w-full px-2 py-1 font-sans text-sm">
                  {l.message}
                  {Object.keys(l.context).length > 0 && (
                    <span className="ml-2 text-xs text-muted-foreground">{JSON.stringify(l.context)}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div ref={bottom} />
      </div>
      {logs.hasNextPage && (
        <Button
          type="button"
          className="mt-2"
          onClick={() => void logs.fetchNextPage()}
          disabled={logs.isFetchingNextPage}
        >
          Load more
        </Button>
      )}
    </div>
  );
}
