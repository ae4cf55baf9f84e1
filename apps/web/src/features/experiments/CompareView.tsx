import { useQuery } from '@tanstack/react-query';
import { call, sdk } from '../../api/client.ts';
import { cn } from '../../ui/cn.ts';
import { ErrorText, Panel } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { percent, short } from '../datasets/types.ts';

/** Two experiments side by side, item by item; regressions highlighted. */
export function CompareView({ base, candidate }: { base: string; candidate: string }) {
  const q = useQuery({
    queryKey: ['compare', base, candidate],
    queryFn: () =>
      call(sdk.api.GET('/api/v1/experiments/compare', { params: { query: { base, candidate } } })),
  });
  const c = q.data;
  return (
    <Panel aria-label="Comparison" className="mt-4">
      <ErrorText error={q.error} />
      {c && (
        <>
          <h2 className="mb-1 text-base font-semibold">
            v{c.base.agentVersion ?? c.base.workflowVersion} → v
            {c.candidate.agentVersion ?? c.candidate.workflowVersion}:{' '}
            <span data-testid="regressions" className={c.regressions ? 'text-destructive' : ''}>
              {c.regressions} regression{c.regressions === 1 ? '' : 's'}
            </span>
            , {c.improvements} improvement{c.improvements === 1 ? '' : 's'}
          </h2>
          <Table aria-label="Aggregates compared">
            <thead>
              <tr>
                <Th>Evaluator</Th>
                <Th>Base mean</Th>
                <Th>Candidate mean</Th>
                <Th>Change</Th>
                <Th>Base pass rate</Th>
                <Th>Candidate pass rate</Th>
              </tr>
            </thead>
            <tbody>
              {c.aggregates.map((a) => (
                <tr key={a.name}>
                  <Td>{a.name}</Td>
                  <Td>{a.baseMean ?? '—'}</Td>
                  <Td>{a.candidateMean ?? '—'}</Td>
                  <Td className={cn(a.delta !== null && a.delta < 0 && 'font-semibold text-destructive')}>
                    {a.delta === null ? '—' : a.delta > 0 ? `+${a.delta}` : a.delta}
                  </Td>
                  <Td>{percent(a.basePassRate)}</Td>
                  <Td>{percent(a.candidatePassRate)}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
          <Table aria-label="Items compared" className="mt-3">
            <thead>
              <tr>
                <Th>Input</Th>
                <Th>Base output</Th>
                <Th>Candidate output</Th>
                <Th>Scores (base → candidate)</Th>
                <Th />
              </tr>
            </thead>
            <tbody>
              {c.items.map((i) => (
                <tr
                  key={i.datasetItemId}
                  data-regression={i.regression ? 'true' : 'false'}
                  className={cn(i.regression && 'bg-destructive/10', i.improvement && 'bg-success/10')}
                >
                  <Td className="max-w-56 font-mono text-xs">{short(i.input)}</Td>
                  <Td className="max-w-56 font-mono text-xs">{short(i.baseOutput)}</Td>
                  <Td className="max-w-56 font-mono text-xs">{short(i.candidateOutput)}</Td>
                  <Td className="text-xs">
                    {i.scores.map((s) => (
                      <div key={s.name}>
                        {s.name}: {s.base ?? '—'} → {s.candidate ?? '—'}
                      </div>
                    ))}
                  </Td>
                  <Td>
                    {i.regression && <strong className="text-destructive">regression</strong>}
                    {i.improvement && <span className="text-success">improved</span>}
                  </Td>
                </tr>
              ))}
            </tbody>
          </Table>
        </>
      )}
    </Panel>
  );
}
