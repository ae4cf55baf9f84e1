import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { ErrorText, Status } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { type EvaluationResult, sourceLabel } from './types.ts';

/** The scores of a run, as the run page and its trace read them (one cache entry per run). */
export const runScoresKey = (runId: string) => ['run-evaluations', runId];

export function useRunScores(runId: string, refetchInterval: number | false, enabled = true) {
  return useQuery({
    queryKey: runScoresKey(runId),
    queryFn: () => call(sdk.api.GET('/api/v1/runs/{id}/evaluations', { params: { path: { id: runId } } })),
    refetchInterval,
    enabled: enabled && runId !== '',
  });
}

/**
 * A person scores a finished run or one step attempt of it: 👍 or 👎 at once, or a number 0–100, each with
 * an optional comment (POST /runs/:id/scores). `label` names what is scored, for the form's accessible name.
 */
export function ManualScore({
  runId,
  step,
  label,
}: {
  runId: string;
  step?: { nodeId: string; attempt: number } | undefined;
  label: string;
}) {
  const client = useQueryClient();
  const canScore = useCan('run:approve');
  const [score, setScore] = useState('');
  const [comment, setComment] = useState('');
  const save = useMutation({
    mutationFn: (value: { thumbs: 'up' | 'down' } | { score: number }) =>
      call(
        sdk.api.POST('/api/v1/runs/{id}/scores', {
          params: { path: { id: runId } },
          body: {
            ...value,
            ...(comment.trim() ? { comment: comment.trim() } : {}),
            ...(step ? { nodeId: step.nodeId, attempt: step.attempt } : {}),
          },
        }),
      ),
    onSuccess: (r) => {
      toast.success(`Scored ${r.score}${r.nodeId ? ` on ${r.nodeId}` : ''}`);
      setScore('');
      setComment('');
      void client.invalidateQueries({ queryKey: runScoresKey(runId) });
      void client.invalidateQueries({ queryKey: ['runs'] });
    },
  });
  if (!canScore) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ score: Number(score) });
  };
  return (
    <form onSubmit={submit} aria-label={`Score ${label}`} className="mt-2 flex flex-wrap items-end gap-2">
      <Button
        type="button"
        size="sm"
        variant="outline"
        aria-label="Thumbs up"
        title="Thumbs up (100, passed)"
        disabled={save.isPending}
        onClick={() => save.mutate({ thumbs: 'up' })}
      >
        👍
      </Button>
      <Button
        type="button"
        size="sm"
        variant="outline"
        aria-label="Thumbs down"
        title="Thumbs down (0, failed)"
        disabled={save.isPending}
        onClick={() => save.mutate({ thumbs: 'down' })}
      >
        👎
      </Button>
      <Field className="w-24">
        Score
        <Input
          type="number"
          min={0}
          max={100}
          step="any"
          required
          value={score}
          onChange={(e) => setScore(e.target.value)}
        />
      </Field>
      <Field className="min-w-48 flex-1">
        Comment
        <Input maxLength={5000} value={comment} onChange={(e) => setComment(e.target.value)} />
      </Field>
      <Button type="submit" size="sm" disabled={save.isPending || score.trim() === ''}>
        Save score
      </Button>
      <ErrorText error={save.error} />
    </form>
  );
}

/** Scores as a short list: name, score / threshold, passed or failed, who or what gave it, comment. */
export function ScoreList({ results, label }: { results: EvaluationResult[]; label: string }) {
  if (!results.length) return null;
  return (
    <ul aria-label={label} className="my-1 space-y-1 text-sm">
      {results.map((r) => (
        <li key={r.id} data-testid={`span-score-${r.evaluatorName}`}>
          <strong>{r.evaluatorName}</strong> {r.score}
          <span className="text-muted-foreground"> / {r.threshold}</span>{' '}
          <Status value={r.passed ? 'passed' : 'failed'} />{' '}
          <span className="text-muted-foreground">{sourceLabel(r)}</span>
          {r.explanation && <span> · {r.explanation}</span>}
        </li>
      ))}
    </ul>
  );
}
