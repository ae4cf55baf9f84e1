import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input } from '../../ui/form.tsx';
import { formatCost, formatDuration, pretty } from '../../ui/format.ts';
import { ErrorText } from '../../ui/page.tsx';
import { inputNames } from './prompt.ts';

/** Calls the saved agent once with the given input and shows its answer, tokens and cost. */
export function TryPanel({ agentId, template }: { agentId: string | null; template: string }) {
  const names = inputNames(template);
  const [values, setValues] = useState<Record<string, string>>({});
  const run = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.POST('/api/v1/agents/{id}/try', { params: { path: { id } }, body: { input: values } })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (agentId) run.mutate(agentId);
  };
  return (
    <aside className="mb-4 rounded-lg border bg-card p-4 shadow-xs" aria-label="Try it">
      <h2>Try it</h2>
      {!agentId ? (
        <p className="text-xs font-normal text-muted-foreground">
          Save the agent first, then call it here once with some input.
        </p>
      ) : (
        <form onSubmit={submit}>
          {names.map((n) => (
            <Field key={n}>
              input.{n}
              <Input
                value={values[n] ?? ''}
                onChange={(e) => setValues((v) => ({ ...v, [n]: e.target.value }))}
              />
            </Field>
          ))}
          {names.length === 0 && (
            <p className="text-xs font-normal text-muted-foreground">
              The prompt reads no {'{{input.…}}'} variables.
            </p>
          )}
          <Button type="submit" disabled={run.isPending}>
            {run.isPending ? 'Calling…' : 'Run once'}
          </Button>
        </form>
      )}
      <ErrorText error={run.error} />
      {run.data && (
        <div className="mt-2.5" data-testid="try-result">
          <dl className="my-2 grid grid-cols-[max-content_1fr] gap-x-3 gap-y-1 text-sm [&_dt]:text-muted-foreground">
            <dt>Tokens</dt>
            <dd>
              {run.data.tokens.total} ({run.data.tokens.input} in, {run.data.tokens.output} out
              {run.data.tokens.estimated ? ', estimated' : ''})
            </dd>
            <dt>Cost</dt>
            <dd>{formatCost(run.data.cost)}</dd>
            <dt>Time</dt>
            <dd>{formatDuration(run.data.durationMs)}</dd>
          </dl>
          <figure className="my-2">
            <figcaption>Output</figcaption>
            <pre>{pretty(run.data.output ?? run.data.text)}</pre>
          </figure>
          <details>
            <summary>Rendered prompt</summary>
            <pre>{run.data.prompt}</pre>
          </details>
        </div>
      )}
    </aside>
  );
}
