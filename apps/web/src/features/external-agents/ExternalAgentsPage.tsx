import type { paths } from '@aiops/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { JsonContent } from '../../api/types.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import { AlertBadge } from '../alerts/AlertBadge.tsx';

/** The SDK's types of the routes this page reads. */
type Monitor = JsonContent<paths['/api/v1/external-agents']['get']['responses'][200]>['data'][number];
type AgentLog = JsonContent<paths['/api/v1/agents/{id}/logs']['get']['responses'][200]>['data'][number];

const useLogs = (agentId: string) =>
  useQuery({
    queryKey: ['agent-logs', agentId],
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/agents/{id}/logs', { params: { path: { id: agentId }, query: { limit: 20 } } }),
      ),
    refetchInterval: 3000,
  });

const BAR: Record<AgentLog['status'], string> = {
  success: 'fill-emerald-500',
  warning: 'fill-amber-500',
  error: 'fill-red-500',
};

/** The status board's sparkline: the last 20 results, oldest left, bar height by duration. */
function Sparkline({ agentId }: { agentId: string }) {
  const rows = [...(useLogs(agentId).data?.data ?? [])].reverse();
  if (!rows.length) return null;
  const max = Math.max(1, ...rows.map((l) => l.durationMs ?? 0));
  const count = (s: AgentLog['status']) => rows.filter((l) => l.status === s).length;
  return (
    <svg
      role="img"
      data-testid="sparkline"
      aria-label={`Recent results: ${count('success')} success, ${count('error')} error, ${count('warning')} warning`}
      width={rows.length * 6}
      height={20}
    >
      {rows.map((l, i) => {
        const h = l.durationMs === null ? 10 : Math.max(4, Math.round((l.durationMs / max) * 20));
        return <rect key={l.id} x={i * 6} y={20 - h} width={4} height={h} className={BAR[l.status]} />;
      })}
    </svg>
  );
}

function Logs({ agent }: { agent: Monitor }) {
  const logs = useLogs(agent.agentId);
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
    queryFn: () => call(sdk.api.GET('/api/v1/external-agents')),
    refetchInterval: 3000,
  });
  const [name, setName] = useState('');
  const [interval, setIntervalSeconds] = useState('60');
  const [grace, setGrace] = useState('30');
  const [issued, setIssued] = useState<{ name: string; agentId: string; key: string } | null>(null);
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['external-agents'] });
    void client.invalidateQueries({ queryKey: ['agents'] });
  };
  const heartbeatWindow = () => ({ expectedIntervalSeconds: Number(interval), graceSeconds: Number(grace) });
  const register = useMutation({
    mutationFn: async () => {
      const agent = await call(
        sdk.api.POST('/api/v1/agents', {
          body: {
            name,
            kind: 'external',
            model: 'simulator:echo',
            promptTemplate: 'runs outside AI Ops Studio',
          },
        }),
      );
      const k = await call(
        sdk.api.POST('/api/v1/agents/{id}/key', {
          params: { path: { id: agent.id } },
          body: heartbeatWindow(),
        }),
      );
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
      const k = await call(
        sdk.api.POST('/api/v1/agents/{id}/key', { params: { path: { id: m.agentId } }, body: {} }),
      );
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
            <AlertBadge agentId={m.agentId} />
            <Sparkline agentId={m.agentId} />
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
