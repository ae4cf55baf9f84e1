import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Check, Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { ErrorText, Panel } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import type { Kind, Severity, SubjectType } from './types.ts';

export const KIND_LABEL: Record<Kind, string> = {
  agent_offline: 'Heartbeat missing (agent offline)',
  consecutive_failures: 'Failures in a row',
  error_rate: 'Error rate over a window above',
  p95_latency: 'p95 latency over a window above',
  cost: 'Cost over a window above',
  eval_score: 'Evaluation score mean over a window below',
  budget: 'Monthly budget spent at',
};
const KINDS: Record<SubjectType, Kind[]> = {
  // An agent's results: an external agent's logs, an internal (llm or code) agent's workflow steps.
  agent: ['agent_offline', 'consecutive_failures', 'error_rate', 'p95_latency', 'cost', 'eval_score'],
  workflow: ['consecutive_failures', 'error_rate', 'p95_latency', 'cost', 'eval_score'],
  organization: ['error_rate', 'p95_latency', 'cost', 'eval_score', 'budget'],
};
const THRESHOLD_LABEL: Partial<Record<Kind, string>> = {
  error_rate: 'Threshold (% failed)',
  p95_latency: 'Threshold (ms)',
  cost: 'Threshold (cost)',
  eval_score: 'Threshold (mean score 0–100)',
  budget: 'Threshold (% of the monthly budget)',
};

const list = (s: string) =>
  s
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);

/** The alert rule form: subject, every condition kind with its window and sample size, severity, channels, and a 7-day preview. */
export function RuleForm() {
  const client = useQueryClient();
  const agents = useQuery({
    queryKey: ['agents'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const external = agents.data?.data.filter((a) => a.kind === 'external') ?? [];
  const internal = agents.data?.data.filter((a) => a.kind !== 'external') ?? [];
  const workflows = useQuery({
    queryKey: ['workflows', 'for-alerts'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 100 } } })),
  });
  const [name, setName] = useState('');
  const [subjectType, setSubjectType] = useState<SubjectType>('agent');
  const [subjectId, setSubjectId] = useState('');
  const [kind, setKind] = useState<Kind>('agent_offline');
  const [count, setCount] = useState('3');
  const [threshold, setThreshold] = useState('10');
  const [windowMinutes, setWindowMinutes] = useState('60');
  const [minSamples, setMinSamples] = useState('10');
  const [evaluator, setEvaluator] = useState('');
  const [severity, setSeverity] = useState<Severity>('warning');
  const [cooldown, setCooldown] = useState('60');
  const [emails, setEmails] = useState('');
  const [slack, setSlack] = useState('');
  const [webhook, setWebhook] = useState('');
  const [events, setEvents] = useState(true);
  const [secret, setSecret] = useState<string | null>(null);

  const condition = () =>
    kind === 'agent_offline'
      ? { kind }
      : kind === 'consecutive_failures'
        ? { kind, count: Number(count) }
        : kind === 'budget'
          ? { kind, threshold: Number(threshold) }
          : {
              kind,
              threshold: Number(threshold),
              windowMinutes: Number(windowMinutes),
              minSamples: Number(minSamples),
              ...(kind === 'eval_score' ? { evaluator: evaluator.trim() || null } : {}),
            };
  const subject = () => ({
    subjectType,
    agentId: subjectType === 'agent' && subjectId ? subjectId : null,
    workflowId: subjectType === 'workflow' && subjectId ? subjectId : null,
  });
  const create = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/alerts/rules', {
          body: {
            name,
            ...subject(),
            condition: condition(),
            severity,
            cooldownMinutes: Number(cooldown),
            channels: {
              email: list(emails),
              ...(slack ? { slack } : {}),
              ...(webhook ? { webhook } : {}),
              events,
            },
          },
        }),
      ),
    onSuccess: (r) => {
      toast.success(`Rule ${r.name} added`);
      setSecret(r.webhookSecret ?? null);
      setName('');
      setSlack('');
      setWebhook('');
      void client.invalidateQueries({ queryKey: ['alert-rules'] });
    },
  });
  const preview = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/alerts/rules/preview', { body: { ...subject(), condition: condition() } })),
  });
  // Heartbeats are an external agent's: an internal agent has no heartbeat rule.
  const kindsOf = (t: SubjectType, id: string) =>
    KINDS[t].filter((k) => k !== 'agent_offline' || !internal.some((a) => a.id === id));
  const kinds = kindsOf(subjectType, subjectId);
  const changeSubject = (t: SubjectType, id = '') => {
    setSubjectType(t);
    setSubjectId(id);
    const next = kindsOf(t, id);
    if (!next.includes(kind)) setKind(next[0]!);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const thresholded = kind !== 'agent_offline' && kind !== 'consecutive_failures';
  // The budget's window is its month (settings.monthlyBudgetUsd); every other threshold has a trailing window.
  const windowed = thresholded && kind !== 'budget';
  return (
    <Panel>
      <form onSubmit={submit} aria-label="Add an alert rule">
        <FieldRow>
          <Field>
            Name
            <Input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field>
            Subject
            <Select value={subjectType} onChange={(e) => changeSubject(e.target.value as SubjectType)}>
              <option value="agent">Agents</option>
              <option value="workflow">Workflows</option>
              <option value="organization">The organization (all runs)</option>
            </Select>
          </Field>
          {subjectType === 'agent' && (
            <Field>
              Agent
              <Select value={subjectId} onChange={(e) => changeSubject('agent', e.target.value)}>
                <option value="">Every agent</option>
                {external.length > 0 && (
                  <optgroup label="External (logs and heartbeats)">
                    {external.map((a) => (
                      <option key={a.id} value={a.id}>
                        {a.name}
                      </option>
                    ))}
                  </optgroup>
                )}
                {internal.length > 0 && (
                  <optgroup label="Internal (their workflow steps)">
                    {internal.map((a) => (
                      <option key={a.id} value={a.id}>
                        {a.name}
                      </option>
                    ))}
                  </optgroup>
                )}
              </Select>
            </Field>
          )}
          {subjectType === 'workflow' && (
            <Field>
              Workflow
              <Select value={subjectId} onChange={(e) => setSubjectId(e.target.value)}>
                <option value="">Every workflow</option>
                {workflows.data?.data.map((w) => (
                  <option key={w.id} value={w.id}>
                    {w.name}
                  </option>
                ))}
              </Select>
            </Field>
          )}
          <Field>
            Condition
            <Select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {kinds.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABEL[k]}
                </option>
              ))}
            </Select>
          </Field>
          {kind === 'consecutive_failures' && (
            <Field>
              Failures
              <Input
                type="number"
                min={1}
                max={100}
                value={count}
                onChange={(e) => setCount(e.target.value)}
              />
            </Field>
          )}
          {thresholded && (
            <Field>
              {THRESHOLD_LABEL[kind]}
              <Input
                type="number"
                min={0}
                step="any"
                value={threshold}
                onChange={(e) => setThreshold(e.target.value)}
              />
            </Field>
          )}
          {kind === 'eval_score' && (
            <Field>
              Evaluator (empty: all)
              <Input maxLength={255} value={evaluator} onChange={(e) => setEvaluator(e.target.value)} />
            </Field>
          )}
          {windowed && (
            <>
              <Field>
                Window (minutes)
                <Input
                  type="number"
                  min={1}
                  max={10080}
                  value={windowMinutes}
                  onChange={(e) => setWindowMinutes(e.target.value)}
                />
              </Field>
              <Field>
                {kind === 'eval_score' ? 'Minimum scores' : 'Minimum results'}
                <Input
                  type="number"
                  min={1}
                  max={100000}
                  value={minSamples}
                  onChange={(e) => setMinSamples(e.target.value)}
                />
              </Field>
            </>
          )}
        </FieldRow>
        <FieldRow>
          <Field>
            Severity
            <Select value={severity} onChange={(e) => setSeverity(e.target.value as Severity)}>
              <option value="info">info</option>
              <option value="warning">warning</option>
              <option value="critical">critical</option>
            </Select>
          </Field>
          <Field>
            Remind every (minutes)
            <Input
              type="number"
              min={1}
              max={10080}
              value={cooldown}
              onChange={(e) => setCooldown(e.target.value)}
            />
          </Field>
          <Field>
            Email to (comma-separated)
            <Input value={emails} onChange={(e) => setEmails(e.target.value)} />
          </Field>
          <Field>
            Slack incoming webhook URL
            <Input type="url" value={slack} onChange={(e) => setSlack(e.target.value)} />
          </Field>
          <Field>
            Webhook URL (Standard Webhooks)
            <Input type="url" value={webhook} onChange={(e) => setWebhook(e.target.value)} />
          </Field>
          <Check>
            <input type="checkbox" checked={events} onChange={(e) => setEvents(e.target.checked)} />
            Send alert events to the event sinks
          </Check>
        </FieldRow>
        <ErrorText error={create.error ?? preview.error} />
        <div className="flex gap-2">
          <Button
            type="button"
            variant="outline"
            onClick={() => preview.mutate()}
            disabled={preview.isPending}
          >
            Preview last 7 days
          </Button>
          <Button type="submit" disabled={create.isPending}>
            Add rule
          </Button>
        </div>
        {preview.data && (
          <p className="mt-2 text-sm" data-testid="rule-preview">
            {preview.data.supported
              ? `Would have fired ${preview.data.fired} time${preview.data.fired === 1 ? '' : 's'} over the last 7 days (${preview.data.results} results, ${preview.data.subjects} subject${preview.data.subjects === 1 ? '' : 's'}${preview.data.truncated ? ', newest 5,000 only' : ''}): ${preview.data.byDay.map((d) => `${d.day.slice(5)} ${d.fired}`).join(' · ')}`
              : `No preview: ${preview.data.note}`}
          </p>
        )}
        {secret && (
          <Hint className="mt-2">
            Webhook signing secret (shown once): <code data-testid="webhook-secret">{secret}</code>
          </Hint>
        )}
      </form>
    </Panel>
  );
}
