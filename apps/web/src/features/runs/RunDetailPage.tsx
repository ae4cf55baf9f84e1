import '@xyflow/react/dist/style.css';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Background, Controls, ReactFlow, ReactFlowProvider } from '@xyflow/react';
import { useMemo, useRef, useState } from 'react';
import { get, post } from '../../api/client.ts';
import type {
  Run,
  RunDetail,
  RunEvent,
  RunStatus,
  WorkflowDefinition,
  WorkflowVersion,
} from '../../api/types.ts';
import { Link, navigate } from '../../app/router.tsx';
import { useCan } from '../../app/session.tsx';
import { formatCost, formatDuration, formatTime } from '../../ui/format.ts';
import { ErrorText, Json, PageHeader, Status } from '../../ui/kit.tsx';
import { type StepNode, toGraph } from '../workflows/editor/graph.ts';
import { nodeTypes } from '../workflows/editor/StepNodeView.tsx';
import { EventLog } from './EventLog.tsx';
import { StepDetail } from './StepDetail.tsx';
import { useRunEvents } from './useRunEvents.ts';
import { Waterfall } from './Waterfall.tsx';

const DONE: RunStatus[] = ['completed', 'failed', 'cancelled', 'timeout'];
const TABS = { graph: 'Graph', timeline: 'Timeline', events: 'Events', io: 'Input & output' } as const;

/** A run on its workflow's graph, live over the event stream; steps, timeline, output and controls. */
export default function RunDetailPage({ id }: { id: string }) {
  const client = useQueryClient();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => get<RunDetail>(`/runs/${id}`),
    // The event stream drives updates; polling is the fallback should the stream drop.
    refetchInterval: (q) => (q.state.data && DONE.includes(q.state.data.status) ? false : 3000),
  });
  const r = run.data;
  const version = useQuery({
    queryKey: ['workflow-version', r?.workflowId, r?.workflowVersion],
    queryFn: () => get<WorkflowVersion>(`/workflows/${r!.workflowId}/versions/${r!.workflowVersion}`),
    enabled: !!r,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refresh = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void run.refetch();
    }, 150);
  };
  const finished = !!r && DONE.includes(r.status);
  // Followed once the run is known: a finished run's stream replays its history and ends.
  const [events, setEvents] = useState<RunEvent[]>([]);
  const live = useRunEvents(id, !!r, (e) => {
    if (e.type !== 'stream.end') setEvents((all) => (all.some((x) => x.id === e.id) ? all : [...all, e]));
    if (!finished) refresh();
  });
  const [tab, setTab] = useState<'graph' | 'timeline' | 'events' | 'io'>('graph');
  const [selected, setSelected] = useState<string | null>(null);

  const nodes = useMemo(() => {
    if (!version.data || !r) return [];
    const g = toGraph(version.data.definition as WorkflowDefinition);
    const steps = new Map(r.steps.map((s) => [s.nodeId, s]));
    return g.nodes.map((n): StepNode => {
      const s = steps.get(n.id);
      if (!s) return { ...n, selected: n.id === selected };
      return {
        ...n,
        selected: n.id === selected,
        data: {
          ...n.data,
          status: s.status,
          attempts: s.attempts.length,
          tokens: s.attempts.reduce((t, a) => t + a.tokens.total, 0),
          cost: s.attempts.reduce((t, a) => t + a.cost, 0),
        },
      };
    });
  }, [version.data, r, selected]);
  const edges = useMemo(
    () => (version.data ? toGraph(version.data.definition as WorkflowDefinition).edges : []),
    [version.data],
  );

  const act = useMutation({
    mutationFn: (action: 'cancel' | 'pause' | 'resume' | 'retry') => post<Run>(`/runs/${id}/${action}`),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['run', id] }),
  });
  const rerun = useMutation({
    mutationFn: (fromStep: string) => post<Run>(`/runs/${id}/rerun`, { fromStep }),
    onSuccess: (next) => navigate(`/runs/${next.id}`),
  });
  const canCancel = useCan('run:cancel');
  const canExecute = useCan('workflow:execute');

  if (!r) return run.error ? <ErrorText error={run.error} /> : <p className="loading">Loading…</p>;
  const step = r.steps.find((s) => s.nodeId === selected);
  const active = ['queued', 'pending', 'running'].includes(r.status);

  return (
    <section className="run-detail">
      <PageHeader title={`Run ${r.id.slice(0, 8)}`}>
        <Status value={r.status} />
        {r.statusReason && <span className="hint">{r.statusReason}</span>}
        {live && <span className="live">● live</span>}
        {canCancel && active && (
          <button type="button" onClick={() => act.mutate('pause')}>
            Pause
          </button>
        )}
        {canCancel && r.status === 'paused' && (
          <button type="button" onClick={() => act.mutate('resume')}>
            Resume
          </button>
        )}
        {canCancel && (active || r.status === 'paused') && (
          <button type="button" className="danger" onClick={() => act.mutate('cancel')}>
            Cancel
          </button>
        )}
        {canExecute && (r.status === 'failed' || r.status === 'timeout') && (
          <button type="button" onClick={() => act.mutate('retry')}>
            Retry
          </button>
        )}
        {canExecute && finished && selected && (
          <button type="button" onClick={() => rerun.mutate(selected)}>
            Re-run from {selected}
          </button>
        )}
      </PageHeader>
      <ErrorText error={act.error ?? rerun.error ?? version.error} />
      <dl className="stats inline" data-testid="run-summary">
        <dt>Workflow</dt>
        <dd>
          <Link to={`/workflows/${r.workflowId}`}>{version.data?.name ?? r.workflowId.slice(0, 8)}</Link> v
          {r.workflowVersion}
        </dd>
        <dt>Started</dt>
        <dd>{formatTime(r.startedAt ?? r.createdAt)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(r.durationMs)}</dd>
        <dt>Steps</dt>
        <dd>
          {r.stepsCompleted}/{r.stepsTotal}
        </dd>
        <dt>Tokens</dt>
        <dd>{r.tokens.total}</dd>
        <dt>Cost</dt>
        <dd>{formatCost(r.cost)}</dd>
      </dl>
      {r.error && (
        <p className="error" role="alert">
          {r.error.code}: {r.error.message}
        </p>
      )}
      <div className="tabs" role="tablist">
        {(['graph', 'timeline', 'events', 'io'] as const).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
            {TABS[t]}
          </button>
        ))}
      </div>
      <div className="run-body">
        <div className="run-main">
          {tab === 'graph' && (
            <div className="canvas run-canvas">
              <ReactFlowProvider>
                <ReactFlow
                  nodes={nodes}
                  edges={edges}
                  nodeTypes={nodeTypes}
                  nodesDraggable={false}
                  nodesConnectable={false}
                  onNodeClick={(_, n) => setSelected(n.id)}
                  fitView
                  fitViewOptions={{ maxZoom: 1 }}
                  proOptions={{ hideAttribution: true }}
                >
                  <Background />
                  <Controls showInteractive={false} />
                </ReactFlow>
              </ReactFlowProvider>
            </div>
          )}
          {tab === 'timeline' && (
            <Waterfall
              run={r}
              onSelect={(n) => {
                setSelected(n);
              }}
            />
          )}
          {tab === 'events' && <EventLog events={events} onSelect={setSelected} />}
          {tab === 'io' && (
            <div className="io">
              <Json label="Input" value={r.input} />
              <Json label="Output" value={r.output} />
            </div>
          )}
        </div>
        {step ? (
          <StepDetail runId={r.id} step={step} onChanged={refresh} />
        ) : (
          <aside className="panel side">
            <p className="hint">Select a step to see its input, output, tokens, cost and attempts.</p>
          </aside>
        )}
      </div>
    </section>
  );
}
