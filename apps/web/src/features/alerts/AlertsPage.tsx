import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { KIND_LABEL, RuleForm } from './RuleForm.tsx';
import type { Rule, Severity, StatusFilter } from './types.ts';

const describe = (r: Rule) => {
  const c = r.condition;
  if (c.kind === 'agent_offline') return 'heartbeat missing';
  if (c.kind === 'consecutive_failures') return `${c.count} failures in a row`;
  if (c.kind === 'budget') return `monthly budget spent at ${c.threshold}%`;
  const unit = c.kind === 'error_rate' ? '%' : c.kind === 'p95_latency' ? ' ms' : '';
  const of = c.kind === 'eval_score' && c.evaluator ? ` (${c.evaluator})` : '';
  return `${KIND_LABEL[c.kind].toLowerCase()} ${c.threshold}${unit}${of} (${c.windowMinutes} min, ≥ ${c.minSamples} results)`;
};
const channelsOf = (r: Rule) =>
  [
    r.channels.email.length ? `email ${r.channels.email.join(', ')}` : null,
    r.channels.slack ? 'Slack' : null,
    r.channels.webhook ? 'webhook' : null,
    r.channels.events ? 'event sinks' : null,
  ]
    .filter(Boolean)
    .join(' · ') || 'no channel';

/** Alert rules and the alerts inbox (issue 17): filter, acknowledge, resolve with a comment. */
export default function AlertsPage() {
  const client = useQueryClient();
  const canManage = useCan('agent:update');
  // Notifications link here with ?alert=<id>: that row is highlighted.
  const focus = new URLSearchParams(window.location.search).get('alert');
  const [status, setStatus] = useState<StatusFilter | ''>('');
  const [severity, setSeverity] = useState<Severity | ''>('');
  const [resolving, setResolving] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const rules = useQuery({
    queryKey: ['alert-rules'],
    queryFn: () => call(sdk.api.GET('/api/v1/alerts/rules')),
  });
  const history = useQuery({
    queryKey: ['alerts', status, severity],
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/alerts', {
          params: { query: { status: status || undefined, severity: severity || undefined } },
        }),
      ),
    refetchInterval: 3000,
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['alerts'] });
    void client.invalidateQueries({ queryKey: ['alert-rules'] });
  };
  const acknowledge = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.POST('/api/v1/alerts/{id}/acknowledge', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const resolve = useMutation({
    mutationFn: (id: string) =>
      call(
        sdk.api.POST('/api/v1/alerts/{id}/resolve', {
          params: { path: { id } },
          body: comment.trim() ? { comment: comment.trim() } : {},
        }),
      ),
    onSuccess: () => {
      setResolving(null);
      setComment('');
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (r: Rule) =>
      call(
        sdk.api.PATCH('/api/v1/alerts/rules/{id}', {
          params: { path: { id: r.id } },
          body: { enabled: !r.enabled },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.DELETE('/api/v1/alerts/rules/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const list = history.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Alerts" />
      <Hint className="mb-3">
        Rules on agents (an external agent's logs and heartbeats, an internal agent's workflow steps),
        workflows or the whole organization. An alert opens once per rule and subject, is sent to its channels
        (email, Slack, a signed webhook, the event sinks), is sent again after the reminder interval while
        nobody acknowledged it, and resolves by itself, with a notification, when the condition clears.
      </Hint>
      {canManage && <RuleForm />}
      <ErrorText
        error={
          rules.error ?? history.error ?? resolve.error ?? acknowledge.error ?? toggle.error ?? remove.error
        }
      />
      <Panel aria-label="Alert rules">
        <h2 className="mb-2 font-semibold">Rules</h2>
        {rules.data?.data.length === 0 && <Hint>No rules yet.</Hint>}
        <ul>
          {rules.data?.data.map((r) => (
            <li key={r.id} data-testid={`rule-${r.name}`} className="flex items-center gap-2 text-sm">
              <span>
                <strong>{r.name}</strong>: {describe(r)} · {r.subjectType} · {r.severity} · {channelsOf(r)}
                {r.enabled ? '' : ' · disabled'}
              </span>
              {canManage && (
                <>
                  <Button size="sm" variant="outline" onClick={() => toggle.mutate(r)}>
                    {r.enabled ? 'Disable' : 'Enable'}
                  </Button>
                  <Button
                    size="sm"
                    variant="destructive"
                    aria-label={`Delete rule ${r.name}`}
                    onClick={() => remove.mutate(r.id)}
                  >
                    Delete
                  </Button>
                </>
              )}
            </li>
          ))}
        </ul>
      </Panel>
      <FieldRow aria-label="Filter alerts">
        <Field>
          Status
          <Select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter | '')}>
            <option value="">Any status</option>
            <option value="unresolved">Open or acknowledged</option>
            <option value="open">Open</option>
            <option value="acknowledged">Acknowledged</option>
            <option value="resolved">Resolved</option>
          </Select>
        </Field>
        <Field>
          Severity
          <Select value={severity} onChange={(e) => setSeverity(e.target.value as Severity | '')}>
            <option value="">Any severity</option>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
            <option value="info">info</option>
          </Select>
        </Field>
      </FieldRow>
      {history.data && list.length === 0 ? (
        <Empty title="No alerts">
          <p>Alerts appear here when a rule's condition holds.</p>
        </Empty>
      ) : (
        <Table aria-label="Alert history">
          <thead>
            <tr>
              <Th>Status</Th>
              <Th>Severity</Th>
              <Th>Rule</Th>
              <Th>Subject</Th>
              <Th>Why</Th>
              <Th>Opened</Th>
              <Th>Resolved</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr
                key={a.id}
                data-testid={`alert-${a.ruleName}`}
                className={a.id === focus ? 'bg-accent' : undefined}
              >
                <Td>
                  <Status value={a.status} />
                </Td>
                <Td>{a.severity}</Td>
                <Td>{a.ruleName}</Td>
                <Td>
                  {a.subjectType} {a.subjectName ?? ''}
                </Td>
                <Td>
                  {a.details.reason ?? ''}
                  {a.resolutionComment ? ` — resolved: ${a.resolutionComment}` : ''}
                </Td>
                <Td>{formatTime(a.triggeredAt)}</Td>
                <Td>{a.resolvedAt ? formatTime(a.resolvedAt) : '—'}</Td>
                <Td>
                  {canManage && a.status === 'open' && (
                    <Button size="sm" variant="outline" onClick={() => acknowledge.mutate(a.id)}>
                      Acknowledge
                    </Button>
                  )}
                  {canManage && a.status !== 'resolved' && resolving !== a.id && (
                    <Button size="sm" variant="outline" onClick={() => setResolving(a.id)}>
                      Resolve
                    </Button>
                  )}
                  {resolving === a.id && (
                    <span className="inline-flex gap-1">
                      <Input
                        aria-label="Resolution comment"
                        maxLength={2000}
                        value={comment}
                        onChange={(e) => setComment(e.target.value)}
                      />
                      <Button size="sm" onClick={() => resolve.mutate(a.id)}>
                        Confirm resolve
                      </Button>
                    </span>
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
