import { Link } from '@tanstack/react-router';
import { useEffect, useState } from 'react';
import type { Agent, WorkflowSummary } from '../../../api/types.ts';
import { Check, Field, Input, Select, Textarea } from '../../../ui/form.tsx';
import { PromptField } from '../../agents/PromptField.tsx';
import { CodeFields } from './CodeFields.tsx';
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
    <aside className="m-0 overflow-auto rounded-lg border bg-card p-4 shadow-xs" aria-label="Step settings">
      <h2>{c.type} step</h2>
      <Field>
        Id (used in templates: {`{{nodes.${node.id}.output}}`})
        <Input value={id} onChange={(e) => setId(e.target.value)} onBlur={rename} />
      </Field>
      {idError && (
        <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
          {idError}
        </p>
      )}
      <Field>
        Name
        <Input value={c.name ?? ''} onChange={(e) => set('name', e.target.value)} />
      </Field>
      {c.type === 'agent' && <AgentFields c={c} agents={agents} onChange={onChange} />}
      {c.type === 'tool' && (
        <>
          <Field>
            Tool
            <Select value={c.tool} onChange={(e) => set('tool', e.target.value)}>
              <option value="json_transform">json_transform (JSONata)</option>
              <option value="http_request">http_request</option>
            </Select>
          </Field>
          <JsonField label="Configuration (JSON)" value={c.config} onChange={(v) => set('config', v ?? {})} />
          <JsonField
            label="Input (JSON or a template)"
            allowText
            value={c.input}
            onChange={(v) => set('input', v)}
          />
        </>
      )}
      {c.type === 'code' && <CodeFields c={c} set={set} />}
      {c.type === 'approval' && (
        <>
          <Field>
            Message to the approver
            <Textarea rows={3} value={c.message ?? ''} onChange={(e) => set('message', e.target.value)} />
          </Field>
          <Field>
            When rejected
            <Select value={c.onReject ?? 'fail'} onChange={(e) => set('onReject', e.target.value)}>
              <option value="fail">fail the run</option>
              <option value="continue">continue (approved = false)</option>
            </Select>
          </Field>
        </>
      )}
      {c.type === 'subworkflow' && (
        <>
          <Field>
            Workflow
            <Select value={c.workflowId} onChange={(e) => set('workflowId', e.target.value)}>
              <option value="">choose…</option>
              {workflows.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
            </Select>
          </Field>
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
        <Field>
          Wait (ms)
          <Input
            type="number"
            min={0}
            value={c.durationMs ?? ''}
            onChange={(e) => set('durationMs', e.target.value === '' ? undefined : Number(e.target.value))}
          />
        </Field>
      )}
      {c.type !== 'output' && (
        <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
          <Field>
            Attempts
            <Input
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
          </Field>
          <Field>
            Timeout (ms)
            <Input
              type="number"
              min={1}
              value={c.timeoutMs ?? ''}
              onChange={(e) => set('timeoutMs', e.target.value === '' ? undefined : Number(e.target.value))}
            />
          </Field>
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
      <fieldset className="mb-3 flex gap-3 rounded-md border px-3 py-2">
        <legend>Agent</legend>
        <Check>
          <input
            className="size-4 accent-primary"
            type="radio"
            name="agent-mode"
            checked={!inline}
            onChange={() => onChange({ ...c, agent: undefined }, 'mode')}
          />
          a saved agent
        </Check>
        <Check>
          <input
            className="size-4 accent-primary"
            type="radio"
            name="agent-mode"
            checked={inline}
            onChange={() => onChange({ ...c, agentId: undefined, agent }, 'mode')}
          />
          defined here
        </Check>
      </fieldset>
      {!inline && (
        <Field>
          Saved agent
          <Select
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
          </Select>
          {agents.length === 0 && (
            <span className="text-xs font-normal text-muted-foreground">
              No agents yet:{' '}
              <Link to="/agents/$id" params={{ id: 'new' }}>
                create one
              </Link>
              , or define it here.
            </span>
          )}
        </Field>
      )}
      {inline && (
        <>
          <Field>
            Model
            <Input value={agent.model} onChange={(e) => setAgent('model', e.target.value)} />
          </Field>
          <PromptField
            label="System prompt"
            rows={2}
            value={agent.system ?? ''}
            onChange={(v) => setAgent('system', v)}
          />
          <PromptField label="Prompt" rows={4} value={agent.prompt} onChange={(v) => setAgent('prompt', v)} />
          <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
            <Field>
              Temperature
              <Input
                type="number"
                min={0}
                max={2}
                step={0.1}
                value={agent.temperature ?? ''}
                onChange={(e) =>
                  setAgent('temperature', e.target.value === '' ? undefined : Number(e.target.value))
                }
              />
            </Field>
            <Field>
              Max tokens
              <Input
                type="number"
                min={1}
                value={agent.maxTokens ?? ''}
                onChange={(e) =>
                  setAgent('maxTokens', e.target.value === '' ? undefined : Number(e.target.value))
                }
              />
            </Field>
          </div>
        </>
      )}
    </>
  );
}
