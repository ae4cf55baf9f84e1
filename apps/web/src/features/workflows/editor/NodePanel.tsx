import { useEffect, useState } from 'react';
import type { Agent, WorkflowSummary } from '../../../api/types.ts';
import { Link } from '../../../app/router.tsx';
import { PromptField } from '../../agents/PromptField.tsx';
import type { NodeConfig, StepNode } from './graph.ts';
import { JsonField } from './JsonField.tsx';

type Change = (config: NodeConfig, field: string) => void;

const ID = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The selected step's settings. Every change is one undo step per field. */
export function NodePanel({
  node,
  agents,
  workflows,
  onChange,
  onRename,
}: {
  node: StepNode;
  agents: Agent[];
  workflows: WorkflowSummary[];
  onChange: Change;
  onRename: (id: string) => boolean;
}) {
  const c = node.data.config;
  const [id, setId] = useState(node.id);
  const [idError, setIdError] = useState<string | null>(null);
  useEffect(() => setId(node.id), [node.id]);
  const rename = () => {
    if (id === node.id) return;
    if (!ID.test(id)) setIdError('Use a letter or _, then letters, digits or _ (templates refer to it)');
    else if (!onRename(id)) setIdError('Another step has this id');
    else setIdError(null);
  };
  const set = <K extends string>(field: K, value: unknown) =>
    onChange({ ...c, [field]: value === '' ? undefined : value } as NodeConfig, field);

  return (
    <aside className="panel side" aria-label="Step settings">
      <h2>{c.type} step</h2>
      <label>
        Id (used in templates: {`{{nodes.${node.id}.output}}`})
        <input value={id} onChange={(e) => setId(e.target.value)} onBlur={rename} />
      </label>
      {idError && (
        <p className="error" role="alert">
          {idError}
        </p>
      )}
      <label>
        Name
        <input value={c.name ?? ''} onChange={(e) => set('name', e.target.value)} />
      </label>
      {c.type === 'agent' && <AgentFields c={c} agents={agents} onChange={onChange} />}
      {c.type === 'tool' && (
        <>
          <label>
            Tool
            <select value={c.tool} onChange={(e) => set('tool', e.target.value)}>
              <option value="json_transform">json_transform (JSONata)</option>
              <option value="http_request">http_request</option>
            </select>
          </label>
          <JsonField label="Configuration (JSON)" value={c.config} onChange={(v) => set('config', v ?? {})} />
          <JsonField
            label="Input (JSON or a template)"
            allowText
            value={c.input}
            onChange={(v) => set('input', v)}
          />
        </>
      )}
      {c.type === 'approval' && (
        <>
          <label>
            Message to the approver
            <textarea rows={3} value={c.message ?? ''} onChange={(e) => set('message', e.target.value)} />
          </label>
          <label>
            When rejected
            <select value={c.onReject ?? 'fail'} onChange={(e) => set('onReject', e.target.value)}>
              <option value="fail">fail the run</option>
              <option value="continue">continue (approved = false)</option>
            </select>
          </label>
        </>
      )}
      {c.type === 'subworkflow' && (
        <>
          <label>
            Workflow
            <select value={c.workflowId} onChange={(e) => set('workflowId', e.target.value)}>
              <option value="">choose…</option>
              {workflows.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </select>
          </label>
          <JsonField
            label="Its input (JSON; strings are templates)"
            allowText
            value={c.input}
            onChange={(v) => set('input', v)}
          />
        </>
      )}
      {c.type === 'output' && (
        <JsonField
          label="Value (JSON or a template, e.g. {{nodes.x.output}})"
          allowText
          rows={6}
          value={c.value}
          onChange={(v) => set('value', v ?? '')}
        />
      )}
      {c.type === 'delay' && (
        <label>
          Wait (ms)
          <input
            type="number"
            min={0}
            value={c.durationMs ?? ''}
            onChange={(e) => set('durationMs', e.target.value === '' ? undefined : Number(e.target.value))}
          />
        </label>
      )}
      {c.type !== 'output' && (
        <div className="row">
          <label>
            Attempts
            <input
              type="number"
              min={1}
              max={20}
              value={c.retry?.maxAttempts ?? ''}
              onChange={(e) =>
                set(
                  'retry',
                  e.target.value === '' ? undefined : { ...c.retry, maxAttempts: Number(e.target.value) },
                )
              }
            />
          </label>
          <label>
            Timeout (ms)
            <input
              type="number"
              min={1}
              value={c.timeoutMs ?? ''}
              onChange={(e) => set('timeoutMs', e.target.value === '' ? undefined : Number(e.target.value))}
            />
          </label>
        </div>
      )}
    </aside>
  );
}

function AgentFields({
  c,
  agents,
  onChange,
}: {
  c: Extract<NodeConfig, { type: 'agent' }>;
  agents: Agent[];
  onChange: Change;
}) {
  const inline = c.agent !== undefined;
  const agent = c.agent ?? { model: 'simulator:echo', prompt: '' };
  const setAgent = (field: string, value: unknown) =>
    onChange({ ...c, agent: { ...agent, [field]: value === '' ? undefined : value } }, `agent.${field}`);
  return (
    <>
      <fieldset className="segmented">
        <legend>Agent</legend>
        <label className="check">
          <input
            type="radio"
            name="agent-mode"
            checked={!inline}
            onChange={() => onChange({ ...c, agent: undefined }, 'mode')}
          />
          a saved agent
        </label>
        <label className="check">
          <input
            type="radio"
            name="agent-mode"
            checked={inline}
            onChange={() => onChange({ ...c, agentId: undefined, agent }, 'mode')}
          />
          defined here
        </label>
      </fieldset>
      {!inline && (
        <label>
          Saved agent
          <select
            aria-label="Saved agent"
            value={c.agentId ?? ''}
            onChange={(e) => onChange({ ...c, agentId: e.target.value || undefined }, 'agentId')}
          >
            <option value="">choose…</option>
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({a.model})
              </option>
            ))}
          </select>
          {agents.length === 0 && (
            <span className="hint">
              No agents yet: <Link to="/agents/new">create one</Link>, or define it here.
            </span>
          )}
        </label>
      )}
      {inline && (
        <>
          <label>
            Model
            <input value={agent.model} onChange={(e) => setAgent('model', e.target.value)} />
          </label>
          <PromptField
            label="System prompt"
            rows={2}
            value={agent.system ?? ''}
            onChange={(v) => setAgent('system', v)}
          />
          <PromptField label="Prompt" rows={4} value={agent.prompt} onChange={(v) => setAgent('prompt', v)} />
          <div className="row">
            <label>
              Temperature
              <input
                type="number"
                min={0}
                max={2}
                step={0.1}
                value={agent.temperature ?? ''}
                onChange={(e) =>
                  setAgent('temperature', e.target.value === '' ? undefined : Number(e.target.value))
                }
              />
            </label>
            <label>
              Max tokens
              <input
                type="number"
                min={1}
                value={agent.maxTokens ?? ''}
                onChange={(e) =>
                  setAgent('maxTokens', e.target.value === '' ? undefined : Number(e.target.value))
                }
              />
            </label>
          </div>
        </>
      )}
    </>
  );
}
