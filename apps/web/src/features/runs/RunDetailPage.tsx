import '@xyflow/react/dist/style.css';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { Background, Controls, ReactFlow, ReactFlowProvider } from '@xyflow/react';
import { useMemo, useRef, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { RunEvent, RunStatus, WorkflowDefinition } from '../../api/types.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { formatCost, formatDuration, formatTime } from '../../ui/format.ts';
import { ErrorText, Json, Loading, PageHeader, Status } from '../../ui/page.tsx';
import { Tabs } from '../../ui/tabs.tsx';
import { AddToDataset } from '../datasets/AddToDataset.tsx';
import { RunEvaluations } from '../evaluations/RunEvaluations.tsx';
import { LogsPanel } from '../traces/LogsPanel.tsx';
import { RunTrace } from '../traces/RunTrace.tsx';
import { edgeTypes } from '../workflows/editor/ConditionEdgeView.tsx';
import { type StepNode, toGraph } from '../workflows/editor/graph.ts';
import { nodeTypes } from '../workflows/editor/StepNodeView.tsx';
import { useLegibleFit } from '../workflows/editor/useLegibleFit.ts';
import { EventLog } from './EventLog.tsx';
import { RerunDialog } from './RerunDialog.tsx';
import { rerunOf } from './rerun.ts';
import { StepDetail } from './StepDetail.tsx';
import { useRunEvents } from './useRunEvents.ts';
import { Waterfall } from './Waterfall.tsx';

const DONE: RunStatus[] = ['completed', 'failed', 'cancelled', 'timeout'];
const RUN_ACTIONS = {
  cancel: '/api/v1/runs/{id}/cancel',
  pause: '/api/v1/runs/{id}/pause',
  resume: '/api/v1/runs/{id}/resume',
  retry: '/api/v1/runs/{id}/retry',
} as const;
type RunAction = keyof typeof RUN_ACTIONS;
const TABS = {
  graph: 'Graph',
  timeline: 'Timeline',
  trace: 'Trace',
  logs: 'Logs',
  events: 'Events',
  io: 'Input & output',
} as const;

/** A run on its workflow's graph, live over the event stream; steps, timeline, output and controls. */
export default function RunDetailPage({ id }: { id: string }) {
  const _navigate = useNavigate();
  const client = useQueryClient();
  const run = useQuery({
    queryKey: ['run', id],
    queryFn: () => call(sdk.api.GET('/api/v1/runs/{id}', { params: { path: { id } } })),
    // The event stream drives updates; polling is the fallback should the stream drop.
    refetchInterval: (q) => (q.state.data && DONE.includes(q.state.data.status) ? false : 3000),
  });
  const r = run.data;
  const version = useQuery({
    queryKey: ['workflow-version', r?.workflowId, r?.workflowVersion],
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/workflows/{id}/versions/{version}', {
          params: { path: { id: r!.workflowId, version: r!.workflowVersion } },
        }),
      ),
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
  // Log lines arrive on the same stream (`?logs=true`): the Logs tab's live tail.
  const [logTick, setLogTick] = useState(0);
  const live = useRunEvents(
    id,
    !!r,
    (e) => {
      if (e.type === 'log') {
        setLogTick((n) => n + 1);
        return;
      }
      if (e.type !== 'stream.end') setEvents((all) => (all.some((x) => x.id === e.id) ? all : [...all, e]));
      if (!finished) refresh();
    },
    true,
  );
  const [tab, setTab] = useState<keyof typeof TABS>('graph');
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
    mutationFn: (action: RunAction) => call(sdk.api.POST(RUN_ACTIONS[action], { params: { path: { id } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: ['run', id] }),
  });
  const [rerunning, setRerunning] = useState(false);
  const canCancel = useCan('run:cancel');
  const canExecute = useCan('workflow:execute');

  if (!r) return run.error ? <ErrorText error={run.error} /> : <Loading />;
  const step = r.steps.find((s) => s.nodeId === selected);
  const previous = rerunOf(r);
  const active = ['queued', 'pending', 'running'].includes(r.status);

  return (
    <section>
      <PageHeader title={`Run ${r.id.slice(0, 8)}`}>
        <Status value={r.status} />
        {r.statusReason && !r.error && (
          <span className="text-xs font-normal text-muted-foreground">{r.statusReason}</span>
        )}
        {live && <span className="text-xs font-semibold text-success">● live</span>}
        {canCancel && active && (
          <Button type="button" onClick={() => act.mutate('pause')}>
            Pause
          </Button>
        )}
        {canCancel && r.status === 'paused' && (
          <Button type="button" onClick={() => act.mutate('resume')}>
            Resume
          </Button>
        )}
        {canCancel && (active || r.status === 'paused') && (
          <Button type="button" variant="destructive" onClick={() => act.mutate('cancel')}>
            Cancel
          </Button>
        )}
        {canExecute && (r.status === 'failed' || r.status === 'timeout') && (
          <Button type="button" onClick={() => act.mutate('retry')}>
            Retry
          </Button>
        )}
        {canExecute && finished && selected && (
          <Button type="button" onClick={() => setRerunning(true)}>
            Re-run from {selected}
          </Button>
        )}
      </PageHeader>
      <ErrorText error={act.error ?? version.error} />
      {rerunning && step && <RerunDialog runId={r.id} step={step} onClose={() => setRerunning(false)} />}
      <dl
        className="my-2 flex flex-wrap gap-x-2.5 gap-y-1.5 text-sm [&_dd]:mr-3.5 [&_dd]:font-semibold [&_dt]:text-muted-foreground"
        data-testid="run-summary"
      >
        {previous && (
          <>
            <dt>Re-run of</dt>
            <dd>
              <Link to="/runs/$id" params={{ id: previous }} data-testid="rerun-of">
                run {previous.slice(0, 8)}
              </Link>
            </dd>
          </>
        )}
        <dt>Workflow</dt>
        <dd>
          <Link to="/workflows/$id" params={{ id: r.workflowId }}>
            {version.data?.name ?? r.workflowId.slice(0, 8)}
          </Link>{' '}
          v{r.workflowVersion}
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
        <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
          {r.error.code}: {r.error.message}
        </p>
      )}
      <Tabs label="Run views" value={tab} onChange={setTab} tabs={TABS}>
        {tab === 'trace' && (
          <RunTrace runId={r.id} finished={finished} version={`${r.status}:${r.stepsCompleted}`} />
        )}
        {tab === 'logs' && (
          <LogsPanel runId={r.id} nodeIds={r.steps.map((s) => s.nodeId)} tick={logTick} active={!finished} />
        )}
        <div
          className={
            tab === 'trace' || tab === 'logs' ? 'hidden' : 'grid grid-cols-[minmax(0,1fr)_340px] gap-3'
          }
        >
          <div className="min-w-0">
            {tab === 'graph' && (
              <ReactFlowProvider>
                <RunCanvas nodes={nodes} edges={edges} onSelect={setSelected} />
              </ReactFlowProvider>
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
              <div>
                <Json label="Input" value={r.input} />
                <Json label="Output" value={r.output} />
              </div>
            )}
          </div>
          {step ? (
            <StepDetail runId={r.id} step={step} onChanged={refresh} />
          ) : (
            <aside className="m-0 overflow-auto rounded-lg border bg-card p-4 shadow-xs">
              <p className="text-xs font-normal text-muted-foreground">
                Select a step to see its input, output, tokens, cost and attempts.
              </p>
            </aside>
          )}
        </div>
      </Tabs>
      <RunEvaluations runId={r.id} finished={finished} />
      {r.status === 'completed' && <AddToDataset runId={r.id} />}
    </section>
  );
}

/** The run on its workflow's graph, opened at a legible zoom like the editor. */
function RunCanvas({
  nodes,
  edges,
  onSelect,
}: {
  nodes: StepNode[];
  edges: ReturnType<typeof toGraph>['edges'];
  onSelect: (id: string) => void;
}) {
  const canvas = useRef<HTMLDivElement>(null);
  const onInit = useLegibleFit(canvas, nodes.length > 0);
  return (
    <div ref={canvas} className="h-[460px] rounded-lg border bg-card min-[1800px]:h-[600px]">
      <ReactFlow
        onInit={onInit}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, n) => onSelect(n.id)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
