import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';
import type { Attachment, Evaluator } from './types.ts';

/** Where an evaluator scores finished runs online: attach it to a workflow or an agent, or detach it. */
export function AttachPanel({ evaluator }: { evaluator: Evaluator }) {
  const client = useQueryClient();
  const canUpdate = useCan('agent:update');
  const key = ['evaluator-attachments', evaluator.id];
  const list = useQuery({
    queryKey: key,
    queryFn: () =>
      call(sdk.api.GET('/api/v1/evaluators/{id}/attachments', { params: { path: { id: evaluator.id } } })),
  });
  const workflows = useQuery({
    queryKey: ['workflows', 'names'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 200 } } })),
  });
  const agents = useQuery({
    queryKey: ['agents', 'names'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const [target, setTarget] = useState('');
  const [rate, setRate] = useState('1');
  const refresh = () => void client.invalidateQueries({ queryKey: key });
  const attach = useMutation({
    mutationFn: () => {
      const [kind, id] = target.split(':');
      return call(
        sdk.api.POST('/api/v1/evaluators/{id}/attachments', {
          params: { path: { id: evaluator.id } },
          body: { ...(kind === 'agent' ? { agentId: id } : { workflowId: id }), samplingRate: Number(rate) },
        }),
      );
    },
    onSuccess: refresh,
  });
  const detach = useMutation({
    mutationFn: (attachmentId: string) =>
      call(
        sdk.api.DELETE('/api/v1/evaluators/{id}/attachments/{attachmentId}', {
          params: { path: { id: evaluator.id, attachmentId } },
        }),
      ),
    onSuccess: refresh,
  });
  const nameOf = (a: Attachment) =>
    a.workflowId
      ? `workflow ${workflows.data?.data.find((w) => w.id === a.workflowId)?.name ?? a.workflowId}`
      : `agent ${agents.data?.data.find((g) => g.id === a.agentId)?.name ?? a.agentId}`;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (target) attach.mutate();
  };
  const rows = list.data?.data ?? [];
  return (
    <div className="mt-2">
      {rows.length === 0 ? (
        <Hint>Not attached: scores runs only on demand.</Hint>
      ) : (
        <ul className="text-sm" aria-label={`Attachments of ${evaluator.name}`}>
          {rows.map((a) => (
            <li key={a.id} className="flex items-center gap-2">
              Scores {nameOf(a)} · {Math.round(a.samplingRate * 100)}% of runs
              {canUpdate && (
                <Button size="sm" variant="outline" type="button" onClick={() => detach.mutate(a.id)}>
                  Detach
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canUpdate && (
        <form onSubmit={submit} aria-label={`Attach ${evaluator.name}`} className="mt-1">
          <FieldRow>
            <Field>
              Attach to
              <Select value={target} onChange={(e) => setTarget(e.target.value)}>
                <option value="">Choose a workflow or agent</option>
                {workflows.data?.data.map((w) => (
                  <option key={w.id} value={`workflow:${w.id}`}>
                    Workflow {w.name}
                  </option>
                ))}
                {agents.data?.data.map((g) => (
                  <option key={g.id} value={`agent:${g.id}`}>
                    Agent {g.name}
                  </option>
                ))}
              </Select>
            </Field>
            <Field>
              Sampling rate (0–1)
              <Input
                type="number"
                min={0}
                max={1}
                step={0.05}
                value={rate}
                onChange={(e) => setRate(e.target.value)}
              />
            </Field>
          </FieldRow>
          <Button type="submit" size="sm" variant="outline" disabled={!target || attach.isPending}>
            Attach
          </Button>
        </form>
      )}
      <ErrorText error={list.error ?? attach.error ?? detach.error} />
    </div>
  );
}
