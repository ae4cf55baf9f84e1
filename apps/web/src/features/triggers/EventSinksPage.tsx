import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { EventSink } from '../../api/types.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

function Deliveries({ sink }: { sink: EventSink }) {
  const client = useQueryClient();
  const canManage = useCan('integration:manage');
  const key = ['deliveries', sink.id];
  const log = useQuery({
    queryKey: key,
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/event-sinks/{id}/deliveries', {
          params: { path: { id: sink.id }, query: { limit: 20 } },
        }),
      ),
    refetchInterval: 2000,
  });
  const again = useMutation({
    mutationFn: (deliveryId: string) =>
      call(
        sdk.api.POST('/api/v1/event-sinks/{id}/deliveries/{deliveryId}/redeliver', {
          params: { path: { id: sink.id, deliveryId } },
        }),
      ),
    onSuccess: () => {
      toast.success('Delivery queued again');
      void client.invalidateQueries({ queryKey: key });
    },
  });
  const rows = log.data?.data ?? [];
  if (log.data && rows.length === 0) return <Hint>No deliveries yet.</Hint>;
  return (
    <Table aria-label={`Deliveries of ${sink.name}`}>
      <thead>
        <tr>
          <Th>Event</Th>
          <Th>Status</Th>
          <Th>Attempts</Th>
          <Th>Response</Th>
          <Th>Last error</Th>
          <Th>Delivered</Th>
          <Th />
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id} data-testid={`delivery-${d.eventType}`}>
            <Td>{d.eventType}</Td>
            <Td>
              <Status value={d.status} />
            </Td>
            <Td>{d.attempts}</Td>
            <Td>{d.responseCode ?? '—'}</Td>
            <Td className="max-w-64 truncate">{d.lastError ?? ''}</Td>
            <Td>{d.deliveredAt ? formatTime(d.deliveredAt) : '—'}</Td>
            <Td>
              {canManage && (
                <Button size="sm" variant="outline" type="button" onClick={() => again.mutate(d.id)}>
                  Redeliver
                </Button>
              )}
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/** Outbound events: webhook subscriptions (Standard Webhooks-signed) and NATS JetStream sinks, with delivery logs. */
export default function EventSinksPage() {
  const client = useQueryClient();
  const canManage = useCan('integration:manage');
  const sinks = useQuery({
    queryKey: ['event-sinks'],
    queryFn: () => call(sdk.api.GET('/api/v1/event-sinks')),
  });
  const [kind, setKind] = useState<'webhook' | 'nats'>('webhook');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [prefix, setPrefix] = useState('aiops');
  const [types, setTypes] = useState('workflow_started, workflow_finished, agent_task_*');
  const [secret, setSecret] = useState<string | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ['event-sinks'] });
  const eventTypes = () =>
    types
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  const create = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/event-sinks', {
          body:
            kind === 'webhook'
              ? { kind, name, eventTypes: eventTypes(), url }
              : { kind, name, eventTypes: eventTypes(), subjectPrefix: prefix },
        }),
      ),
    onSuccess: (s) => {
      setSecret(s.secret ?? null);
      toast.success(`Sink ${s.name} added`);
      setName('');
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (s: EventSink) =>
      call(
        sdk.api.PATCH('/api/v1/event-sinks/{id}', {
          params: { path: { id: s.id } },
          body: { enabled: !s.enabled },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.DELETE('/api/v1/event-sinks/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  // A new signing secret; the old one keeps signing beside it for a day (both signatures are sent).
  const rotate = useMutation({
    mutationFn: (id: string) =>
      call(
        sdk.api.POST('/api/v1/event-sinks/{id}/secret', {
          params: { path: { id } },
          body: { graceSeconds: 86_400 },
        }),
      ),
    onSuccess: (s) => {
      setSecret(s.secret ?? null);
      toast.success(`New signing secret for ${s.name}; the old one is accepted until tomorrow`);
      refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const list = sinks.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Event sinks" />
      <Hint className="mb-3">
        Run, step, workflow and agent-task events are written with each change and delivered to these sinks:
        webhook subscriptions (signed with Standard Webhooks, retried with backoff, disabled after repeated
        failures) and the NATS JetStream server (subject{' '}
        <code>&lt;prefix&gt;.&lt;organization&gt;.&lt;type&gt;</code>). Types: exact names or a prefix ending
        in <code>*</code>; empty means everything but step events.
      </Hint>
      {canManage && (
        <Panel>
          <form onSubmit={submit} aria-label="Add an event sink">
            <FieldRow>
              <Field>
                Kind
                <Select value={kind} onChange={(e) => setKind(e.target.value as 'webhook' | 'nats')}>
                  <option value="webhook">Webhook subscription</option>
                  <option value="nats">NATS JetStream</option>
                </Select>
              </Field>
              <Field>
                Name
                <Input required value={name} onChange={(e) => setName(e.target.value)} />
              </Field>
              {kind === 'webhook' ? (
                <Field>
                  URL
                  <Input
                    required
                    type="url"
                    value={url}
                    onChange={(e) => setUrl(e.target.value)}
                    placeholder="https://example.com/hooks/aiops"
                  />
                </Field>
              ) : (
                <Field>
                  Subject prefix
                  <Input required value={prefix} onChange={(e) => setPrefix(e.target.value)} />
                </Field>
              )}
              <Field>
                Event types
                <Input value={types} onChange={(e) => setTypes(e.target.value)} />
              </Field>
            </FieldRow>
            <ErrorText error={create.error} />
            <Button type="submit" disabled={create.isPending}>
              Add sink
            </Button>
          </form>
          {secret && (
            <p className="mt-2 text-sm text-warning" role="status">
              <strong>Signing secret (shown once):</strong> <code data-testid="sink-secret">{secret}</code>
            </p>
          )}
        </Panel>
      )}
      <ErrorText error={sinks.error ?? toggle.error ?? remove.error ?? rotate.error} />
      {sinks.data && list.length === 0 && (
        <Empty title="No event sinks">
          <p>Add a webhook subscription or a NATS sink above to receive lifecycle events.</p>
        </Empty>
      )}
      {list.map((s) => (
        <Panel key={s.id} aria-label={`Sink ${s.name}`} data-testid={`sink-${s.name}`}>
          <div className="mb-2 flex flex-wrap items-center gap-2">
            <strong>{s.name}</strong>
            <Status value={s.enabled ? 'enabled' : 'disabled'} />
            <span className="text-sm text-muted-foreground">
              {s.kind === 'webhook' ? s.url : `NATS ${s.subjectPrefix}.*`} ·{' '}
              {s.eventTypes.length ? s.eventTypes.join(', ') : 'all but step events'}
            </span>
            {s.disabledReason && <span className="text-sm text-destructive">{s.disabledReason}</span>}
            {s.kind === 'webhook' && (
              <span className="text-sm text-muted-foreground">
                secret {s.secretHint}
                {s.previousSecretExpiresAt
                  ? ` · previous secret still signs until ${formatTime(s.previousSecretExpiresAt)}`
                  : ''}
              </span>
            )}
            {canManage && (
              <span className="ml-auto flex gap-1.5">
                {s.kind === 'webhook' && (
                  <Button size="sm" variant="outline" type="button" onClick={() => rotate.mutate(s.id)}>
                    Rotate secret
                  </Button>
                )}
                <Button size="sm" variant="outline" type="button" onClick={() => toggle.mutate(s)}>
                  {s.enabled ? 'Disable' : 'Enable'}
                </Button>
                <Button size="sm" variant="outline" type="button" onClick={() => remove.mutate(s.id)}>
                  Delete
                </Button>
              </span>
            )}
          </div>
          <Deliveries sink={s} />
        </Panel>
      ))}
    </section>
  );
}
