import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Hint, Select } from '../../ui/form.tsx';
import { formatCost, formatTime } from '../../ui/format.ts';
import { ErrorText, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { ManualScore, runScoresKey, useRunScores } from './ManualScore.tsx';
import { sourceLabel } from './types.ts';

/** A run's scores (online, on demand and by people), scoring it now with an evaluator, or by hand. */
export function RunEvaluations({ runId, finished }: { runId: string; finished: boolean }) {
  const client = useQueryClient();
  const canRun = useCan('agent:execute');
  const key = runScoresKey(runId);
  const results = useRunScores(runId, finished ? 5000 : false);
  const evaluators = useQuery({
    queryKey: ['evaluators'],
    queryFn: () => call(sdk.api.GET('/api/v1/evaluators')),
    enabled: canRun,
  });
  const [evaluatorId, setEvaluatorId] = useState('');
  const run = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.POST('/api/v1/evaluations/run', { body: { runId, evaluatorIds: [id] } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: key }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const id = evaluatorId || evaluators.data?.data[0]?.id;
    if (id) run.mutate(id);
  };
  const rows = results.data?.data ?? [];
  return (
    <section aria-label="Evaluations" className="mt-4">
      <h2 className="mb-2 text-base font-semibold">Evaluations</h2>
      <ErrorText error={results.error ?? run.error} />
      {results.data && rows.length === 0 && <Hint>No scores yet.</Hint>}
      {rows.length > 0 && (
        <Table aria-label="Scores of this run">
          <thead>
            <tr>
              <Th>Evaluator</Th>
              <Th>Score</Th>
              <Th>Result</Th>
              <Th>Explanation</Th>
              <Th>Scope</Th>
              <Th>Cost</Th>
              <Th>When</Th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id} data-testid={`score-${r.evaluatorName}`}>
                <Td>
                  {r.evaluatorName}{' '}
                  {r.kind !== 'manual' && (
                    <span className="text-muted-foreground">v{r.evaluatorVersion}</span>
                  )}
                </Td>
                <Td>
                  {r.score} <span className="text-muted-foreground">/ {r.threshold}</span>
                </Td>
                <Td>
                  <Status value={r.passed ? 'passed' : 'failed'} />
                </Td>
                <Td className="max-w-96">{r.explanation ?? ''}</Td>
                <Td>
                  {r.nodeId ? `step ${r.nodeId} #${r.attempt}` : r.agentExecutionId ? 'agent step' : 'run'} ·{' '}
                  {sourceLabel(r)}
                </Td>
                <Td>{formatCost(r.costUsd)}</Td>
                <Td>{formatTime(r.createdAt)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {finished && <ManualScore runId={runId} label="this run" />}
      {canRun && finished && (evaluators.data?.data.length ?? 0) > 0 && (
        <form onSubmit={submit} aria-label="Evaluate this run" className="mt-2 flex items-end gap-2">
          <Field>
            Evaluator
            <Select value={evaluatorId} onChange={(e) => setEvaluatorId(e.target.value)}>
              {evaluators.data?.data.map((e) => (
                <option key={e.id} value={e.id}>
                  {e.name}
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit" size="sm" disabled={run.isPending}>
            Evaluate
          </Button>
        </form>
      )}
    </section>
  );
}
