import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { RunStep } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { formatCost, formatDuration } from '../../ui/format.ts';
import { ErrorText, Json, Status } from '../../ui/page.tsx';

/** One step of a run: its attempts (input, output, model, tokens, cost, error) and an approval's buttons. */
export function StepDetail({
  runId,
  step,
  onChanged,
}: {
  runId: string;
  step: RunStep;
  onChanged: () => void;
}) {
  const [comment, setComment] = useState('');
  const decide = useMutation({
    mutationFn: (approved: boolean) =>
      call(
        sdk.api.POST('/api/v1/runs/{id}/steps/{stepId}/approve', {
          params: { path: { id: runId, stepId: step.nodeId } },
          body: { approved, ...(comment ? { comment } : {}) },
        }),
      ),
    onSuccess: onChanged,
  });
  return (
    <aside
      className="m-0 overflow-auto rounded-lg border bg-card p-4 shadow-xs"
      aria-label={`Step ${step.nodeId}`}
    >
      <h2>
        {step.nodeId} <Status value={step.status} />
      </h2>
      {step.status === 'waiting' && step.nodeType === 'approval' && (
        <div className="mb-3">
          <Field>
            Comment
            <Input value={comment} onChange={(e) => setComment(e.target.value)} />
          </Field>
          <div className="flex flex-wrap items-center justify-end gap-2">
            <Button type="button" onClick={() => decide.mutate(true)} disabled={decide.isPending}>
              Approve
            </Button>
            <Button
              type="button"
              variant="destructive"
              onClick={() => decide.mutate(false)}
              disabled={decide.isPending}
            >
              Reject
            </Button>
          </div>
          <ErrorText error={decide.error} />
        </div>
      )}
      {step.attempts.length === 0 && (
        <p className="text-xs font-normal text-muted-foreground">No attempt yet.</p>
      )}
      {step.attempts.map((a) => (
        <details key={a.id} open={a.attempt === step.attempts.length} className="border-t py-1.5">
          <summary>
            Attempt {a.attempt}: <Status value={a.status} /> {formatDuration(a.durationMs)}
          </summary>
          <dl className="my-2 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1 text-sm [&_dt]:text-muted-foreground">
            {a.model && (
              <>
                <dt>Model</dt>
                <dd>{a.model}</dd>
              </>
            )}
            <dt>Tokens</dt>
            <dd>
              {a.tokens.total} ({a.tokens.input} in, {a.tokens.output} out
              {a.tokens.estimated ? ', estimated' : ''})
            </dd>
            <dt>Cost</dt>
            <dd>{formatCost(a.cost)}</dd>
            {a.cached && (
              <>
                <dt>Cache</dt>
                <dd>answered from the response cache</dd>
              </>
            )}
          </dl>
          <Json label="Input" value={a.input} />
          <Json label="Output" value={a.output} />
          <Json label="Error" value={a.error} />
        </details>
      ))}
      {step.attempts.length === 0 && <Json label="Output" value={step.output} />}
    </aside>
  );
}
