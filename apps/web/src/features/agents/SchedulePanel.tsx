import type { Schemas } from '@aiops/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Check, Field, FieldRow, Hint, Input, Textarea } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { ErrorText, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

/** GET /agents/:id/schedule (server module agent-schedules). */
type AgentSchedule = Schemas['AgentSchedule'];

/** The run input as typed: a JSON object, or why not. */
function parseInput(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return { error: 'Input: a JSON object, e.g. {"team": "ops"}' };
    return { value: v as Record<string, unknown> };
  } catch (e) {
    return { error: `Input is not JSON: ${(e as Error).message}` };
  }
}

/**
 * An agent's schedule (seed 004 `schedule`, `webhook_url`): a cron in a time zone and an input. On every
 * due time the worker POSTs a Standard Webhooks-signed request to an external agent's webhook URL, or
 * starts a run of an llm or code agent with the input. Shows the next due times, the signing secret once
 * (external agents), and the latest firings with their outcome and run.
 */
export function SchedulePanel({ agentId, kind }: { agentId: string; kind: string }) {
  const external = kind === 'external';
  const client = useQueryClient();
  const canEdit = useCan('agent:update');
  const key = ['agent-schedule', agentId];
  const q = useQuery({
    queryKey: key,
    queryFn: () => call(sdk.api.GET('/api/v1/agents/{id}/schedule', { params: { path: { id: agentId } } })),
    refetchInterval: 5000,
  });
  const [cron, setCron] = useState('0 * * * *');
  const [timezone, setTimezone] = useState('UTC');
  const [url, setUrl] = useState('');
  const [inputText, setInputText] = useState('{}');
  const [inputError, setInputError] = useState<string | null>(null);
  const [enabled, setEnabled] = useState(true);
  const [secret, setSecret] = useState<string | null>(null);
  // The form starts from the saved schedule once; the list refreshes every 5 s but never overwrites what
  // the person is typing.
  const loaded = q.data;
  const [filled, setFilled] = useState(false);
  useEffect(() => {
    if (!loaded || filled) return;
    if (loaded.cron) setCron(loaded.cron);
    setTimezone(loaded.timezone);
    setUrl(loaded.webhookUrl ?? '');
    setInputText(JSON.stringify(loaded.input ?? {}, null, 2));
    setEnabled(loaded.enabled);
    setFilled(true);
  }, [loaded, filled]);
  const done = (s: AgentSchedule, message: string) => {
    if (s.secret) setSecret(s.secret);
    client.setQueryData(key, s);
    toast.success(message);
  };
  const save = useMutation({
    mutationFn: (input: Record<string, unknown>) =>
      call(
        sdk.api.PUT('/api/v1/agents/{id}/schedule', {
          params: { path: { id: agentId } },
          body: { cron, timezone, enabled, input, ...(external ? { webhookUrl: url } : {}) },
        }),
      ),
    onSuccess: (s) => done(s, 'Schedule saved'),
  });
  const remove = useMutation({
    mutationFn: () =>
      call(sdk.api.DELETE('/api/v1/agents/{id}/schedule', { params: { path: { id: agentId } } })),
    onSuccess: (s) => done(s, 'Schedule removed'),
  });
  const rotate = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/agents/{id}/schedule/secret', { params: { path: { id: agentId } } })),
    onSuccess: (s) => done(s, 'New signing secret'),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseInput(inputText);
    setInputError(parsed.error ?? null);
    if (parsed.value) save.mutate(parsed.value);
  };
  const s = q.data;
  return (
    <section aria-label="Schedule" className="mb-4 rounded-lg border bg-card p-4 shadow-xs">
      <h2 className="mt-0">Schedule</h2>
      {external ? (
        <Hint className="mb-2">
          On every due time the agent's webhook URL receives a POST signed with Standard Webhooks (
          <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>) carrying
          the input, retried with backoff until it answers 2xx.
        </Hint>
      ) : (
        <Hint className="mb-2">
          On every due time the agent runs once with the input below, as a run you find in Runs (triggered by
          schedule); quotas and cost limits apply as to any run.
        </Hint>
      )}
      {!filled &&
        (q.error ? <ErrorText error={q.error} /> : <p className="text-sm">Loading the schedule…</p>)}
      {filled && (
        <form onSubmit={submit} aria-label="Agent schedule">
          <FieldRow>
            <Field>
              Cron
              <Input required value={cron} onChange={(e) => setCron(e.target.value)} disabled={!canEdit} />
            </Field>
            <Field>
              Time zone
              <Input
                required
                value={timezone}
                onChange={(e) => setTimezone(e.target.value)}
                disabled={!canEdit}
              />
            </Field>
            {external && (
              <Field>
                Webhook URL
                <Input
                  required
                  type="url"
                  value={url}
                  onChange={(e) => setUrl(e.target.value)}
                  placeholder="https://agent.example.com/run"
                  disabled={!canEdit}
                />
              </Field>
            )}
          </FieldRow>
          <Field>
            Input (JSON)
            <Textarea
              rows={3}
              className="font-mono"
              value={inputText}
              onChange={(e) => setInputText(e.target.value)}
              disabled={!canEdit}
            />
          </Field>
          {inputError && (
            <p className="text-sm text-destructive" role="alert">
              {inputError}
            </p>
          )}
          <Check>
            <input
              className="size-4 accent-primary"
              type="checkbox"
              checked={enabled}
              onChange={(e) => setEnabled(e.target.checked)}
              disabled={!canEdit}
            />
            Enabled
          </Check>
          <ErrorText error={q.error ?? save.error ?? remove.error ?? rotate.error} />
          {canEdit && (
            <div className="flex gap-1.5">
              <Button type="submit" disabled={save.isPending}>
                Save schedule
              </Button>
              {s?.cron && (
                <Button type="button" variant="outline" onClick={() => remove.mutate()}>
                  Remove schedule
                </Button>
              )}
              {s?.secretHint && (
                <Button type="button" variant="outline" onClick={() => rotate.mutate()}>
                  Rotate secret
                </Button>
              )}
            </div>
          )}
        </form>
      )}
      {secret && (
        <p className="mt-2 text-sm text-warning" role="status">
          <strong>Signing secret (shown once):</strong> <code data-testid="schedule-secret">{secret}</code>
        </p>
      )}
      {s?.secretHint && <p className="text-sm text-muted-foreground">Secret {s.secretHint}</p>}
      {s && s.nextFireTimes.length > 0 && (
        <div data-testid="next-due-times" className="text-sm">
          Next: {s.nextFireTimes.map((t) => formatTime(t)).join(' · ')}
        </div>
      )}
      {s && s.calls.length > 0 && (
        <Table aria-label={external ? 'Scheduled calls' : 'Scheduled runs'}>
          <thead>
            <tr>
              <Th>Due</Th>
              <Th>Status</Th>
              <Th>Attempts</Th>
              <Th>{external ? 'Response' : 'Run'}</Th>
              <Th>Error</Th>
            </tr>
          </thead>
          <tbody>
            {s.calls.map((c) => (
              <tr key={c.id}>
                <Td>{c.dueAt ? formatTime(c.dueAt) : '—'}</Td>
                <Td>
                  <Status value={c.status} />
                </Td>
                <Td>{c.attempts}</Td>
                <Td>
                  {external ? (
                    (c.responseCode ?? '—')
                  ) : c.runId ? (
                    <a href={`/runs/${c.runId}`}>run {c.runId.slice(0, 8)}</a>
                  ) : (
                    '—'
                  )}
                </Td>
                <Td className="max-w-64 truncate">{c.reason ?? ''}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
