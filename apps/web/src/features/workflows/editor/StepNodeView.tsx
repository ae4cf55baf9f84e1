import { Handle, type NodeProps, Position } from '@xyflow/react';
import { createContext, useContext } from 'react';
import { formatCost } from '../../../ui/format.ts';
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
  }
}

/** One step on the canvas: type, name, what it does; in a run, its state, tokens and cost. */
export function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  const agents = useContext(AgentNames);
  const c = data.config;
  const issues = data.issues ?? [];
  const cls = [
    'step',
    `step-${c.type}`,
    data.status ? `state-${data.status}` : '',
    issues.length ? 'invalid' : '',
  ];
  if (selected) cls.push('selected');
  return (
    <div className={cls.join(' ')} data-testid={`node-${id}`} data-status={data.status ?? ''}>
      <Handle type="target" position={Position.Left} aria-label={`connect into ${id}`} />
      <div className="step-type">{LABELS[c.type]}</div>
      <div className="step-title">{c.name || id}</div>
      <div className="step-sub">{summary(c, agents)}</div>
      {data.status && (
        <div className="step-state">
          <span className={`status status-${data.status}`}>{data.status}</span>
          {data.attempts !== undefined && data.attempts > 1 && <span> · {data.attempts} attempts</span>}
        </div>
      )}
      {data.tokens !== undefined && (
        <div className="step-usage" data-testid={`usage-${id}`}>
          {data.tokens} tokens · {formatCost(data.cost)}
        </div>
      )}
      {issues.length > 0 && (
        <ul className="step-issues" aria-label={`problems of ${id}`}>
          {issues.map((m) => (
            <li key={m}>{m}</li>
          ))}
        </ul>
      )}
      {c.type !== 'output' && (
        <Handle type="source" position={Position.Right} aria-label={`connect from ${id}`} />
      )}
    </div>
  );
}

export const nodeTypes = { step: StepNodeView };
