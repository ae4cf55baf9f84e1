import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { get, post } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

interface Monitor {
  agentId: string;
  agentName: string;
  keyPrefix: string;
  expectedIntervalSeconds: number;
  graceSeconds: number;
  state: 'unknown' | 'online' | 'offline' | 'error';
  stateChangedAt: string;
  lastHeartbeatAt: string | null;
  reportedStatus: string | null;
  reportedVersion: string | null;
  metrics: Record<string, number>;
}

interface AgentLog {
  id: string;
  status: 'success' | 'error' | 'warning';
  message: string | null;
  durationMs: number | null;
  createdAt: string;
}

function Logs({ agent }: { agent: Monitor }) {
  const logs = useQuery({
    queryKey: ['agent-logs', agent.agentId],
    queryFn: () => get<{ data: AgentLog[] }>(`/agents/${agent.agentId}/logs?limit=20`),
    refetchInterval: 3000,
  });
  const rows = logs.data?.data ?? [];
  if (logs.data && rows.length === 0) return <Hint>No logs yet.</Hint>;
  return (
    <Table aria-label={`Logs of ${agent.agentName}`}>
      <thead>
        <tr>
          <Th>Status</Th>
          <Th>Message</Th>
          <Th>Duration</Th>
          <Th>Received</Th>
        </tr>
      </thead>
      <tbody>
        {rows.map((l) => (
          <tr key={l.id} data-testid={`log-${l.status}`}>
            <Td>
              <Status value={l.status} />
            </Td>
            <Td className="max-w-96 truncate">{l.message ?? ''}</Td>
            <Td>{l.durationMs === null ? '—' : `${l.durationMs} ms`}</Td>
            <Td>{formatTime(l.createdAt)}</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

/**
 * External agents (issue 17): agents that run elsewhere and report here with their own key. Register one
 * (its key is shown once), see its status from heartbeats (online, error, offline), last heartbeat and logs.
 */
export default function ExternalAgentsPage() {
  const client = useQueryClient();
  const canManage = useCan('agent:update');
  const board = useQuery({
    queryKey: ['external-agents'],
    queryFn: () => get<{ data: Monitor[] }>('/external-agents'),
    refetchInterval: 3000,
  });
  const [name, setName] = useState('');
  const [interval, setIntervalSeconds] = useState('60');
  const [grace, setGrace] = useState('30');
  const [issued, setIssued] = useState<{ name: string; agentId: string; key: string } | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: ['external-agents'] });
  const heartbeatWindow = () => ({ expectedIntervalSeconds: Number(interval), graceSeconds: Number(grace) });
  const register = useMutation({
    mutationFn: async () => {
      const agent = await post<{ id: string; name: string }>('/agents', {
        name,
        kind: 'external',
        model: 'simulator:echo',
        promptTemplate: 'runs outside AI Ops Studio',
      });
      const k = await post<{ key: string }>(`/agents/${agent.id}/key`, heartbeatWindow());
      return { name: agent.name, agentId: agent.id, key: k.key };
    },
    onSuccess: (r) => {
      setIssued(r);
      setName('');
      toast.success(`External agent ${r.name} registered`);
      refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: async (m: Monitor) => {
      const k = await post<{ key: string }>(`/agents/${m.agentId}/key`, {});
      return { name: m.agentName, agentId: m.agentId, key: k.key };
    },
    onSuccess: (r) => {
      setIssued(r);
      toast.success(`New key for ${r.name}: the old one no longer works`);
      refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    register.mutate();
  };
  const list = board.data?.data ?? [];
  const origin = typeof location === 'undefined' ? '' : location.origin;
  return (
    <section>
      <PageHeader title="External agents" />
      <Hint className="mb-3">
        Agents that run elsewhere send heartbeats and logs here with their own key. An agent is online while
        its heartbeats arrive within its interval plus grace, in error when it reports an error, and offline
        once a heartbeat is missed (checked every minute).
      </Hint>
      {canManage && (
        <Panel>
          <form onSubmit={submit} aria-label="Register an external agent">
            <FieldRow>
              <Field>
                Name
                <Input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
              </Field>
              <Field>
                Heartbeat every (seconds)
                <Input
                  type="number"
                  min={5}
                  max={86400}
                  required
                  value={interval}
                  onChange={(e) => setIntervalSeconds(e.target.value)}
                />
              </Field>
              <Field>
                Grace (seconds)
                <Input
                  type="number"
                  min={0}
                  max={86400}
                  required
                  value={grace}
                  onChange={(e) => setGrace(e.target.value)}
                />
              </Field>
            </FieldRow>
            <ErrorText error={register.error} />
            <Button type="submit" disabled={register.isPending}>
              Register agent
            </Button>
          </form>
          {issued && (
            <div className="mt-2 text-sm" role="status">
              <p className="text-warning">
                <strong>Key of {issued.name} (shown once):</strong>{' '}
                <code data-testid="agent-key">{issued.key}</code>
              </p>
              <Hint>
                Heartbeat:{' '}
                <code>
                  curl -X POST -H "Authorization: Bearer {issued.key}" -H "content-type: application/json" -d
                  '{'{"status":"ok"}'}' {origin}/api/v1/agents/{issued.agentId}/heartbeat
                </code>
              </Hint>
            </div>
          )}
        </Panel>
      )}
      <ErrorText error={board.error ?? rotate.error} />
      {board.data && list.length === 0 && (
        <Empty title="No external agents">
          <p>Register one above, then send its heartbeats and logs with its key.</p>
        </Empty>
      )}
      {list.map((m) => (
        <Panel key={m.agentId} aria-label={`Agent ${m.agentName}`} data-testid={`external-${m.agentName}`}>
          <div className="mb-2 flex flex-wrap items-center gap-2">
            <strong>{m.agentName}</strong>
            <span data-testid="agent-state">
              <Status value={m.state} />
            </span>
            <span className="text-sm text-muted-foreground">
              last heartbeat{' '}
              <span data-testid="last-heartbeat">
                {m.lastHeartbeatAt ? formatTime(m.lastHeartbeatAt) : 'never'}
              </span>{' '}
              · every {m.expectedIntervalSeconds}s + {m.graceSeconds}s grace · key {m.keyPrefix}…
              {m.reportedVersion ? ` · version ${m.reportedVersion}` : ''}
            </span>
            {canManage && (
              <span className="ml-auto">
                <Button size="sm" variant="outline" type="button" onClick={() => rotate.mutate(m)}>
                  Rotate key
                </Button>
              </span>
            )}
          </div>
          <Logs agent={m} />
        </Panel>
      ))}
    </section>
  );
}
