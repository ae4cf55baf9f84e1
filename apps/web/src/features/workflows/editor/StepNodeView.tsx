import { Handle, type NodeProps, Position } from '@xyflow/react';
import { createContext, useContext } from 'react';
import { cn } from '../../../ui/cn.ts';
import { formatCost } from '../../../ui/format.ts';
import { Status } from '../../../ui/page.tsx';
import type { NodeConfig, StepNode } from './graph.ts';

/** Agent names by id, so a node that uses a saved agent shows its name. */
export const AgentNames = createContext<Map<string, string>>(new Map());

const LABELS: Record<NodeConfig['type'], string> = {
  agent: 'Agent',
  tool: 'Tool',
  approval: 'Approval',
  subworkflow: 'Sub-workflow',
  output: 'Output',
  delay: 'Delay',
  code: 'Code',
};

function summary(c: NodeConfig, agents: Map<string, string>): string {
  switch (c.type) {
    case 'agent':
      if (c.agentId) return agents.get(c.agentId) ?? 'saved agent';
      return c.agent?.model ?? 'choose an agent';
    case 'tool':
      return c.tool;
    case 'approval':
      return c.message ?? 'waits for a decision';
    case 'subworkflow':
      return c.workflowId ? 'runs a workflow' : 'choose a workflow';
    case 'output':
      return 'the run’s result';
    case 'delay':
      return c.durationMs !== undefined ? `${c.durationMs} ms` : (c.until ?? '');
    case 'code':
      return c.language === 'typescript' ? 'TypeScript' : 'JavaScript';
  }
}

const TYPE_CLASS: Record<NodeConfig['type'], string> = {
  agent: 'border-l-violet-500',
  tool: 'border-l-cyan-600',
  approval: 'border-l-amber-500',
  subworkflow: 'border-l-slate-600',
  output: 'border-l-green-600',
  delay: 'border-l-slate-400',
  code: 'border-l-rose-500',
};
const STATE_CLASS: Record<string, string> = {
  completed: 'bg-success/10',
  running: 'bg-primary/10',
  failed: 'bg-destructive/10',
  waiting: 'bg-warning/10',
};

/** One step on the canvas: type, name, what it does; in a run, its state, tokens and cost. */
export function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  const agents = useContext(AgentNames);
  const c = data.config;
  const issues = data.issues ?? [];
  return (
    <div
      className={cn(
        'step w-[200px] rounded-lg border-[1.5px] border-l-4 border-muted-foreground/50 bg-card px-2.5 py-2 text-[12px] text-card-foreground',
        TYPE_CLASS[c.type],
        data.status && STATE_CLASS[data.status],
        issues.length > 0 && 'border-destructive',
        selected && 'ring-2 ring-primary',
      )}
      data-testid={`node-${id}`}
      data-status={data.status ?? ''}
    >
      <Handle type="target" position={Position.Left} title={`connect into ${id}`} />
      <div className="text-[12px] uppercase tracking-wide text-muted-foreground">{LABELS[c.type]}</div>
      <div className="text-[15px] font-semibold">{c.name || id}</div>
      <div className="truncate text-[13px] text-muted-foreground">{summary(c, agents)}</div>
      {data.status && (
        <div className="mt-1">
          <Status value={data.status} />
          {data.attempts !== undefined && data.attempts > 1 && <span> · {data.attempts} attempts</span>}
        </div>
      )}
      {data.tokens !== undefined && (
        <div className="mt-1" data-testid={`usage-${id}`}>
          {data.tokens} tokens · {formatCost(data.cost)}
        </div>
      )}
      {issues.length > 0 && (
        <ul className="step-issues mt-1 list-disc pl-3.5 text-destructive" aria-label={`problems of ${id}`}>
          {issues.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      {c.type !== 'output' && <Handle type="source" position={Position.Right} title={`connect from ${id}`} />}
    </div>
  );
}

export const nodeTypes = { step: StepNodeView };

/** The smallest text on a step is 12 px: at this zoom or more it is drawn at 11 px or more. */
export const LEGIBLE_ZOOM = 0.92;
