import '@xyflow/react/dist/style.css';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import {
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { NodeType, Workflow, WorkflowDefinition } from '../../../api/types.ts';
import { Button } from '../../../ui/button.tsx';
import { ErrorText } from '../../../ui/page.tsx';
import { toast } from '../../../ui/toast.tsx';
import { describePolicy, isPromotionError, PromotionCheck } from '../../experiments/PromotionCheck.tsx';
import { TriggersDialog } from '../../triggers/TriggersDialog.tsx';
import { edgeTypes } from './ConditionEdgeView.tsx';
import { exportDefinition } from './exporting.ts';
import {
  addNode,
  type ConditionEdge,
  connect,
  type Graph,
  renameNode,
  type StepNode,
  setCondition,
  toDefinition,
  toGraph,
  updateConfig,
} from './graph.ts';
import { type History, initHistory, push, redo, replace, undo } from './history.ts';
import { NodePanel } from './NodePanel.tsx';
import { DRAG_TYPE, Palette } from './Palette.tsx';
import { RunDialog } from './RunDialog.tsx';
import { EdgePanel, WorkflowPanel } from './SidePanels.tsx';
import { AgentNames, LEGIBLE_ZOOM, nodeTypes } from './StepNodeView.tsx';
import { useLegibleFit } from './useLegibleFit.ts';
import { useValidation } from './useValidation.ts';
import { VersionsDialog } from './VersionsDialog.tsx';

const EMPTY: WorkflowDefinition = {
  name: 'my-workflow',
  input: { type: 'object', properties: { text: { type: 'string', title: 'Text' } }, required: ['text'] },
  nodes: [],
  connections: [],
};

/** The workflow editor: `/workflows/new` or `/workflows/:id`. */
export default function EditorPage({ id }: { id: string }) {
  const isNew = id === 'new';
  // A rollback reloads the editor from the server; saving keeps the editor (and its undo history).
  const [generation, setGeneration] = useState(0);
  const q = useQuery({
    queryKey: ['workflow', id],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows/{id}', { params: { path: { id } } })),
    enabled: !isNew,
  });
  if (!isNew && !q.data)
    return q.error ? <ErrorText error={q.error} /> : <p className="p-8 text-muted-foreground">Loading…</p>;
  const definition = isNew ? EMPTY : (q.data!.definition as WorkflowDefinition);
  return (
    <ReactFlowProvider>
      <Editor
        key={generation}
        workflow={q.data ?? null}
        initial={definition}
        onReload={() => setGeneration((g) => g + 1)}
      />
    </ReactFlowProvider>
  );
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return (
    !!el &&
    (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable)
  );
}

function Editor({
  workflow,
  initial,
  onReload,
}: {
  workflow: Workflow | null;
  initial: WorkflowDefinition;
  onReload: () => void;
}) {
  const client = useQueryClient();
  const flow = useReactFlow();
  const [h, setH] = useState<History<Graph>>(() => initHistory(toGraph(initial)));
  const [saved, setSaved] = useState(() => JSON.stringify(toDefinition(toGraph(initial))));
  const [dialog, setDialog] = useState<'run' | 'versions' | 'triggers' | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const dragging = useRef(false);
  const canvas = useRef<HTMLDivElement>(null);
  // A loaded workflow opens fitted, legibly; a new one keeps its viewport so steps land where dropped.
  const onInit = useLegibleFit(canvas, initial.nodes.length > 0);
  const [minimap, setMinimap] = useState(() => localStorage.getItem('aiops.minimap') !== 'hidden');
  const toggleMinimap = () => {
    localStorage.setItem('aiops.minimap', minimap ? 'hidden' : 'shown');
    setMinimap(!minimap);
  };
  const graph = h.present;
  const definition = useMemo(() => toDefinition(graph), [graph]);
  const dirty = JSON.stringify(definition) !== saved;
  const issues = useValidation(definition);

  const agents = useQuery({
    queryKey: ['agents'],
    queryFn: () => call(sdk.api.GET('/api/v1/agents', { params: { query: { limit: 200 } } })),
  });
  const workflows = useQuery({
    queryKey: ['workflows'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 200 } } })),
  });
  const agentNames = useMemo(
    () => new Map((agents.data?.data ?? []).map((a) => [a.id, a.name])),
    [agents.data],
  );

  const commit = useCallback((next: Graph, key: string | null = null) => setH((s) => push(s, next, key)), []);

  const navigate = useNavigate();
  const save = useMutation({
    mutationFn: async (def: WorkflowDefinition) =>
      workflow
        ? call(
            sdk.api.PATCH('/api/v1/workflows/{id}', {
              params: { path: { id: workflow.id } },
              body: { definition: def },
            }),
          )
        : call(sdk.api.POST('/api/v1/workflows', { body: { definition: def, status: 'active' } })),
    onSuccess: (w, def) => {
      setSaved(JSON.stringify(def));
      setNotice(`Saved as version ${w.version}.`);
      toast.success(`${w.name} saved as version ${w.version}`);
      client.setQueryData(['workflow', w.id], w);
      void client.invalidateQueries({ queryKey: ['workflows'] });
      void client.invalidateQueries({ queryKey: ['workflow-versions', w.id] });
      if (!workflow) void navigate({ to: '/workflows/$id', params: { id: w.id }, replace: true });
    },
  });
  const doSave = useCallback(() => {
    if (!save.isPending) save.mutate(definition);
  }, [save, definition]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const k = e.key.toLowerCase();
      if (k === 's') {
        e.preventDefault();
        doSave();
      } else if (isTyping(e.target)) {
        return;
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        setH(redo);
      } else if (k === 'z') {
        e.preventDefault();
        setH(undo);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [doSave]);

  const onNodesChange = useCallback((changes: NodeChange<StepNode>[]) => {
    setH((s) => {
      const next = { ...s.present, nodes: applyNodeChanges(changes, s.present.nodes) };
      if (changes.some((c) => c.type === 'remove')) {
        const gone = new Set(changes.flatMap((c) => (c.type === 'remove' ? [c.id] : [])));
        next.edges = next.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target));
        return push(s, next);
      }
      const drag = changes.find((c) => c.type === 'position');
      if (drag?.type === 'position') {
        if (drag.dragging && !dragging.current) {
          dragging.current = true;
          return push(s, next);
        }
        if (!drag.dragging) dragging.current = false;
      }
      return replace(s, next);
    });
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<ConditionEdge>[]) => {
    setH((s) => {
      const next = { ...s.present, edges: applyEdgeChanges(changes, s.present.edges) };
      return changes.some((c) => c.type === 'remove') ? push(s, next) : replace(s, next);
    });
  }, []);

  const add = (type: NodeType, position?: { x: number; y: number }) => {
    // Pressed rather than dropped: right of the last step, or in the middle of the view.
    const last = graph.nodes.at(-1);
    const at =
      position ??
      (last
        ? { x: last.position.x + 320, y: last.position.y }
        : flow.screenToFlowPosition({ x: window.innerWidth / 2, y: window.innerHeight / 3 }));
    commit(addNode(graph, type, at));
    // A pressed step may land beyond the canvas's edge: bring every step into view, still legible.
    if (!position) {
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          const corner = flow.flowToScreenPosition({ x: at.x + 200, y: at.y + 80 });
          const box = canvas.current?.getBoundingClientRect();
          if (box && (corner.x > box.right || corner.y > box.bottom))
            void flow.fitView({ maxZoom: flow.getZoom(), minZoom: LEGIBLE_ZOOM });
        }),
      );
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const type = e.dataTransfer.getData(DRAG_TYPE) as NodeType;
    if (type) add(type, flow.screenToFlowPosition({ x: e.clientX - 80, y: e.clientY - 30 }));
  };

  const selectedNodes = graph.nodes.filter((n) => n.selected);
  const selectedEdge = graph.edges.find((e) => e.selected);
  const display = useMemo(
    () =>
      graph.nodes.map((n) =>
        issues.byNode[n.id] ? { ...n, data: { ...n.data, issues: issues.byNode[n.id] } } : n,
      ),
    [graph.nodes, issues],
  );

  return (
    <AgentNames.Provider value={agentNames}>
      <div className="flex h-[calc(100vh-2.5rem)] flex-col">
        <div className="mb-2 flex flex-wrap items-center gap-1.5" role="toolbar" aria-label="Editor">
          <strong className="wf-name mr-1 text-lg">{graph.meta.name}</strong>
          {workflow && <span className="text-xs font-normal text-muted-foreground">v{workflow.version}</span>}
          {dirty && <span className="mr-auto text-xs text-warning">unsaved changes</span>}
          <Button
            variant="outline"
            type="button"
            onClick={() => setH(undo)}
            disabled={h.past.length === 0}
            title="Undo (Ctrl+Z)"
          >
            Undo
          </Button>
          <Button
            variant="outline"
            type="button"
            onClick={() => setH(redo)}
            disabled={h.future.length === 0}
            title="Redo (Ctrl+Shift+Z)"
          >
            Redo
          </Button>
          <Button
            variant="outline"
            type="button"
            onClick={doSave}
            disabled={save.isPending}
            title="Save a new version (Ctrl+S)"
          >
            Save
          </Button>
          <Button variant="outline" type="button" onClick={() => setDialog('versions')} disabled={!workflow}>
            Versions
          </Button>
          <Button variant="outline" type="button" onClick={() => setDialog('triggers')} disabled={!workflow}>
            Triggers
          </Button>
          <Button variant="outline" type="button" onClick={() => void exportDefinition(definition, 'json')}>
            Export JSON
          </Button>
          <Button variant="outline" type="button" onClick={() => void exportDefinition(definition, 'yaml')}>
            Export YAML
          </Button>
          <Button variant="outline" aria-pressed={minimap} onClick={toggleMinimap}>
            Minimap
          </Button>
          <Button
            type="button"
            variant="success"
            disabled={!workflow || dirty}
            title={dirty || !workflow ? 'Save first' : 'Start a run'}
            onClick={() => setDialog('run')}
          >
            Run
          </Button>
        </div>
        {notice && !dirty && (
          <p className="my-1.5 text-sm text-success" role="status">
            {notice}
          </p>
        )}
        {isPromotionError(save.error) && workflow ? (
          <PromotionCheck
            key={String(save.error.details?.experimentId)}
            error={save.error}
            workflowId={workflow.id}
            onPromoted={(w) => {
              setSaved(JSON.stringify(definition));
              save.reset();
              setNotice(`Promoted: version ${w.version} is current.`);
              toast.success(`${w.name}: version ${w.version} is current`);
              client.setQueryData(['workflow', w.id], w);
              void client.invalidateQueries({ queryKey: ['workflow-versions', w.id] });
            }}
          />
        ) : (
          <ErrorText error={save.error} />
        )}
        {describePolicy(definition.promotion) && (
          <p className="my-1 text-xs text-muted-foreground" data-testid="promotion-policy">
            {describePolicy(definition.promotion)}
          </p>
        )}
        {issues.general.length > 0 && (
          <ul
            className="mb-2 list-disc rounded-md border border-destructive/40 bg-destructive/10 py-1.5 pr-1.5 pl-6 text-destructive"
            aria-label="Problems"
          >
            {issues.general.map((m) => (
              <li key={m}>{m}</li>
            ))}
          </ul>
        )}
        <div className="grid min-h-0 flex-1 grid-cols-[136px_minmax(0,1fr)_284px] min-[1440px]:grid-cols-[160px_minmax(0,1fr)_320px] gap-2.5 min-[1800px]:grid-cols-[190px_minmax(0,1fr)_380px]">
          <Palette onAdd={(t) => add(t)} />
          {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target for the palette; keyboard users add steps with the palette's buttons */}
          <div
            ref={canvas}
            className="relative h-full min-h-[400px] rounded-lg border bg-card"
            onDrop={onDrop}
            onDragOver={(e) => e.preventDefault()}
          >
            {graph.nodes.length === 0 && (
              <p className="pointer-events-none absolute inset-x-0 top-1/3 z-10 px-6 text-center text-muted-foreground">
                Drag a step from the palette onto the canvas (or press it) to begin.
              </p>
            )}
            <ReactFlow
              onInit={onInit}
              nodes={display}
              edges={graph.edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={(c) => commit(connect(graph, c.source, c.target))}
              deleteKeyCode={['Delete', 'Backspace']}
              proOptions={{ hideAttribution: true }}
            >
              <Background />
              <Controls />
              {minimap && (
                <MiniMap
                  position="top-right"
                  pannable
                  zoomable
                  style={{ width: 140, height: 90 }}
                  ariaLabel="Minimap"
                />
              )}
            </ReactFlow>
          </div>
          {selectedNodes.length === 1 ? (
            <NodePanel
              key={selectedNodes[0]!.id}
              node={selectedNodes[0]!}
              agents={agents.data?.data ?? []}
              workflows={(workflows.data?.data ?? []).filter((w) => w.id !== workflow?.id)}
              onChange={(config, field) =>
                commit(updateConfig(graph, selectedNodes[0]!.id, config), `${selectedNodes[0]!.id}:${field}`)
              }
              onRename={(to) => {
                if (graph.nodes.some((n) => n.id === to)) return false;
                commit(renameNode(graph, selectedNodes[0]!.id, to));
                return true;
              }}
            />
          ) : selectedEdge ? (
            <EdgePanel
              edge={selectedEdge}
              onChange={(c) =>
                commit(setCondition(graph, selectedEdge.id, c), `${selectedEdge.id}:condition`)
              }
            />
          ) : (
            <WorkflowPanel
              meta={graph.meta}
              onChange={(meta, field) => commit({ ...graph, meta }, `meta:${field}`)}
            />
          )}
        </div>
        {dialog === 'run' && workflow && (
          <RunDialog workflowId={workflow.id} schema={definition.input} onClose={() => setDialog(null)} />
        )}
        {dialog === 'triggers' && workflow && (
          <TriggersDialog workflowId={workflow.id} onClose={() => setDialog(null)} />
        )}
        {dialog === 'versions' && workflow && (
          <VersionsDialog
            workflowId={workflow.id}
            current={workflow.version}
            onClose={() => setDialog(null)}
            onRolledBack={(w) => {
              setDialog(null);
              client.setQueryData(['workflow', w.id], w);
              void client.invalidateQueries({ queryKey: ['workflow-versions', w.id] });
              onReload();
            }}
          />
        )}
      </div>
    </AgentNames.Provider>
  );
}
