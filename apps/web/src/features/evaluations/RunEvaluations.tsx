import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { get, post } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Hint, Select } from '../../ui/form.tsx';
import { formatCost, formatTime } from '../../ui/format.ts';
import { ErrorText, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import type { EvaluationResult, Evaluator } from './types.ts';

/** A run's scores (online and on demand), and scoring it now with an evaluator. */
export function RunEvaluations({ runId, finished }: { runId: string; finished: boolean }) {
  const client = useQueryClient();
  const canRun = useCan('agent:execute');
  const key = ['run-evaluations', runId];
  const results = useQuery({
    queryKey: key,
    queryFn: () => get<{ data: EvaluationResult[] }>(`/runs/${runId}/evaluations`),
    refetchInterval: finished ? 5000 : false,
  });
  const evaluators = useQuery({
    queryKey: ['evaluators'],
    queryFn: () => get<{ data: Evaluator[] }>('/evaluators'),
    enabled: canRun,
  });
  const [evaluatorId, setEvaluatorId] = useState('');
  const run = useMutation({
    mutationFn: (id: string) => post('/evaluations/run', { runId, evaluatorIds: [id] }),
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
                  {r.evaluatorName} <span className="text-muted-foreground">v{r.evaluatorVersion}</span>
                </Td>
                <Td>
                  {r.score} <span className="text-muted-foreground">/ {r.threshold}</span>
                </Td>
                <Td>
                  <Status value={r.passed ? 'passed' : 'failed'} />
                </Td>
                <Td className="max-w-96">{r.explanation ?? ''}</Td>
                <Td>
                  {r.agentExecutionId ? 'agent step' : 'run'} ·{' '}
                  {r.source === 'online' ? 'online' : 'on demand'}
                </Td>
                <Td>{formatCost(r.costUsd)}</Td>
                <Td>{formatTime(r.createdAt)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
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
