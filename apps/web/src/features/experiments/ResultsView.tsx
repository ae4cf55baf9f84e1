import { useQuery } from '@tanstack/react-query';
import { call, sdk } from '../../api/client.ts';
import { formatCost } from '../../ui/format.ts';
import { ErrorText, Panel, Stats, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { percent, short } from '../datasets/types.ts';

/** One experiment: aggregates per evaluator, totals, and its items with their scores. */
export function ResultsView({ id }: { id: string }) {
  const exp = useQuery({
    queryKey: ['experiment', id],
    queryFn: () => call(sdk.api.GET('/api/v1/experiments/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (q.state.data?.status === 'running' ? 1000 : false),
  });
  const items = useQuery({
    queryKey: ['experiment-items', id, exp.data?.doneItems],
    queryFn: () => call(sdk.api.GET('/api/v1/experiments/{id}/items', { params: { path: { id } } })),
  });
  const e = exp.data;
  return (
    <Panel aria-label="Experiment results" className="mt-4">
      <ErrorText error={exp.error ?? items.error} />
      {e && (
        <>
          <h2 className="mb-1 text-base font-semibold">
            {e.name} <Status value={e.status} />
          </h2>
          <Stats inline>
            <dt>Items</dt>
            <dd>
              {e.doneItems}/{e.totalItems}
            </dd>
            <dt>Cost</dt>
            <dd>{formatCost(e.totals.costUsd)}</dd>
            <dt>Tokens</dt>
            <dd>{e.totals.tokens}</dd>
            <dt>Mean latency</dt>
            <dd>{e.totals.meanLatencyMs === null ? '—' : `${e.totals.meanLatencyMs} ms`}</dd>
            <dt>Failed runs</dt>
            <dd>{e.totals.failedRuns}</dd>
          </Stats>
          <Table aria-label="Aggregates">
            <thead>
              <tr>
                <Th>Evaluator</Th>
                <Th>Mean</Th>
                <Th>p50</Th>
                <Th>Pass rate</Th>
                <Th>Scored</Th>
              </tr>
            </thead>
            <tbody>
              {e.aggregates.map((a) => (
                <tr key={a.evaluatorId}>
                  <Td>{a.name}</Td>
                  <Td>{a.mean ?? '—'}</Td>
                  <Td>{a.p50 ?? '—'}</Td>
                  <Td>{percent(a.passRate)}</Td>
                  <Td>{a.scored}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      )}
      {items.data && (
        <Table aria-label="Results by item" className="mt-3">
          <thead>
            <tr>
              <Th>#</Th>
              <Th>Input</Th>
              <Th>Expected</Th>
              <Th>Output</Th>
              <Th>Scores</Th>
              <Th>Run</Th>
            </tr>
          </thead>
          <tbody>
            {items.data.data.map((i) => (
              <tr key={i.id}>
                <Td>{i.position}</Td>
                <Td className="max-w-56 font-mono text-xs">{short(i.input)}</Td>
                <Td className="max-w-56 font-mono text-xs">{short(i.expectedOutput)}</Td>
                <Td className="max-w-56 font-mono text-xs">{short(i.output)}</Td>
                <Td className="text-xs">
                  {i.status !== 'scored'
                    ? i.status
                    : i.scores.map((s) => (
                        <div key={s.evaluatorId} title={s.explanation ?? ''}>
                          {s.name}: {s.score ?? 'error'} {s.passed ? '✓' : '✗'}
                        </div>
                      ))}
                </Td>
                <Td>{i.runId ? <a href={`/runs/${i.runId}`}>{i.runStatus ?? 'open'}</a> : '—'}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </Panel>
  );
}
