import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { get, post } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

interface Rule {
  id: string;
  name: string;
  agentId: string | null;
  condition: { kind: 'agent_offline' | 'consecutive_failures'; count?: number };
  channels: { email?: string[] };
  enabled: boolean;
}
interface Alert {
  id: string;
  ruleId: string;
  agentId: string;
  status: 'open' | 'resolved';
  triggeredAt: string;
  resolvedAt: string | null;
  details: { reason?: string; resolution?: string };
}
interface Monitor {
  agentId: string;
  agentName: string;
}

const describe = (r: Rule) =>
  r.condition.kind === 'agent_offline' ? 'agent goes offline' : `${r.condition.count} failures in a row`;

/** Alert rules on external agents and the alert history (issue 17). */
export default function AlertsPage() {
  const client = useQueryClient();
  const canManage = useCan('agent:update');
  const rules = useQuery({
    queryKey: ['alert-rules'],
    queryFn: () => get<{ data: Rule[] }>('/alerts/rules'),
  });
  const history = useQuery({
    queryKey: ['alerts'],
    queryFn: () => get<{ data: Alert[] }>('/alerts'),
    refetchInterval: 3000,
  });
  const agents = useQuery({
    queryKey: ['external-agents'],
    queryFn: () => get<{ data: Monitor[] }>('/external-agents'),
  });
  const [name, setName] = useState('');
  const [agentId, setAgentId] = useState('');
  const [kind, setKind] = useState<'agent_offline' | 'consecutive_failures'>('agent_offline');
  const [count, setCount] = useState('3');
  const [emails, setEmails] = useState('');
  const create = useMutation({
    mutationFn: () =>
      post<Rule>('/alerts/rules', {
        name,
        agentId: agentId || null,
        condition: kind === 'agent_offline' ? { kind } : { kind, count: Number(count) },
        channels: {
          email: emails
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean),
        },
      }),
    onSuccess: (r) => {
      toast.success(`Rule ${r.name} added`);
      setName('');
      void client.invalidateQueries({ queryKey: ['alert-rules'] });
    },
  });
  const resolve = useMutation({
    mutationFn: (id: string) => post<Alert>(`/alerts/${id}/resolve`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['alerts'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const agentName = (id: string | null) =>
    id === null ? 'every external agent' : (agents.data?.data.find((a) => a.agentId === id)?.agentName ?? id);
  const ruleName = (id: string) => rules.data?.data.find((r) => r.id === id)?.name ?? id;
  const list = history.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Alerts" />
      <Hint className="mb-3">
        Rules on external agents: an agent going offline, or N failed runs in a row. An alert opens once per
        rule and agent, is emailed, and resolves (with another email) when the agent is back or succeeds.
      </Hint>
      {canManage && (
        <Panel>
          <form onSubmit={submit} aria-label="Add an alert rule">
            <FieldRow>
              <Field>
                Name
                <Input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
              </Field>
              <Field>
                Agent
                <Select value={agentId} onChange={(e) => setAgentId(e.target.value)}>
                  <option value="">Every external agent</option>
                  {agents.data?.data.map((a) => (
                    <option key={a.agentId} value={a.agentId}>
                      {a.agentName}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field>
                Condition
                <Select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
                  <option value="agent_offline">Agent goes offline</option>
                  <option value="consecutive_failures">Failures in a row</option>
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
              <Field>
                Email to (comma-separated)
                <Input value={emails} onChange={(e) => setEmails(e.target.value)} />
              </Field>
            </FieldRow>
            <ErrorText error={create.error} />
            <Button type="submit" disabled={create.isPending}>
              Add rule
            </Button>
          </form>
        </Panel>
      )}
      <ErrorText error={rules.error ?? history.error ?? resolve.error} />
      <Panel aria-label="Alert rules">
        <h2 className="mb-2 font-semibold">Rules</h2>
        {rules.data?.data.length === 0 && <Hint>No rules yet.</Hint>}
        <ul>
          {rules.data?.data.map((r) => (
            <li key={r.id} data-testid={`rule-${r.name}`} className="text-sm">
              <strong>{r.name}</strong>: {describe(r)} · {agentName(r.agentId)} · email{' '}
              {r.channels.email?.length ? r.channels.email.join(', ') : 'nobody'}
            </li>
          ))}
        </ul>
      </Panel>
      {history.data && list.length === 0 ? (
        <Empty title="No alerts">
          <p>Alerts appear here when a rule's condition holds.</p>
        </Empty>
      ) : (
        <Table aria-label="Alert history">
          <thead>
            <tr>
              <Th>Status</Th>
              <Th>Rule</Th>
              <Th>Agent</Th>
              <Th>Why</Th>
              <Th>Opened</Th>
              <Th>Resolved</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.id} data-testid={`alert-${ruleName(a.ruleId)}`}>
                <Td>
                  <Status value={a.status} />
                </Td>
                <Td>{ruleName(a.ruleId)}</Td>
                <Td>{agentName(a.agentId)}</Td>
                <Td>{a.details.resolution ?? a.details.reason ?? ''}</Td>
                <Td>{formatTime(a.triggeredAt)}</Td>
                <Td>{a.resolvedAt ? formatTime(a.resolvedAt) : '—'}</Td>
                <Td>
                  {canManage && a.status === 'open' && (
                    <Button size="sm" variant="outline" type="button" onClick={() => resolve.mutate(a.id)}>
                      Resolve
                    </Button>
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
