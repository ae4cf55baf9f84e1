import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, lazy, Suspense, useEffect, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { Agent, AgentInput } from '../../api/types.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm.tsx';
import { Check, Field, Input, Select } from '../../ui/form.tsx';
import { ErrorText, PageHeader } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { AgentOrigin } from '../marketplace/AgentOrigin.tsx';
import { CodeFields } from '../workflows/editor/CodeFields.tsx';
import { AgentVersions } from './AgentVersions.tsx';
import { PromptField } from './PromptField.tsx';
import { SchedulePanel } from './SchedulePanel.tsx';
import { TryPanel } from './TryPanel.tsx';

// recharts loads with the metrics panel only.
const AgentMetricsPanel = lazy(() => import('./AgentMetricsPanel.tsx'));

const MODELS = [
  'simulator:echo',
  'simulator:json',
  'openai:gpt-4o-mini',
  'openai:gpt-4o',
  'anthropic:claude-sonnet-4-5',
  'google:gemini-2.5-flash',
];
const TOOLS = ['http_request', 'json_transform', 'mcp'];

interface Form {
  kind: Agent['kind'];
  language: 'javascript' | 'typescript';
  code: string;
  name: string;
  description: string;
  model: string;
  systemPrompt: string;
  promptTemplate: string;
  temperature: string;
  maxTokens: string;
  tools: string[];
}

const blank: Form = {
  kind: 'llm',
  language: 'javascript',
  code: 'return input;',
  name: '',
  description: '',
  model: 'simulator:echo',
  systemPrompt: '',
  promptTemplate: 'Summarize: {{input.text}}',
  temperature: '',
  maxTokens: '',
  tools: [],
};

function fromAgent(a: Agent): Form {
  return {
    kind: a.kind,
    language: a.code?.language ?? 'javascript',
    code: a.code?.code ?? 'return input;',
    name: a.name,
    description: a.description ?? '',
    model: a.model,
    systemPrompt: a.systemPrompt ?? '',
    promptTemplate: a.promptTemplate,
    temperature: a.temperature === null ? '' : String(a.temperature),
    maxTokens: a.maxTokens === null ? '' : String(a.maxTokens),
    tools: a.tools,
  };
}

function toBody(f: Form): AgentInput {
  return {
    kind: f.kind,
    code: f.kind === 'code' ? { language: f.language, code: f.code } : null,
    name: f.name,
    description: f.description || null,
    model: f.model,
    systemPrompt: f.systemPrompt || null,
    promptTemplate: f.promptTemplate,
    temperature: f.temperature === '' ? null : Number(f.temperature),
    maxTokens: f.maxTokens === '' ? null : Number(f.maxTokens),
    tools: f.tools,
  };
}

/** Create or edit an agent: model, prompts, parameters, tools; try it once on the right. */
export default function AgentEditPage({ id }: { id: string }) {
  const navigate = useNavigate();
  const isNew = id === 'new';
  const client = useQueryClient();
  const canEdit = useCan(isNew ? 'agent:create' : 'agent:update');
  const q = useQuery({
    queryKey: ['agent', id],
    queryFn: () => call(sdk.api.GET('/api/v1/agents/{id}', { params: { path: { id } } })),
    enabled: !isNew,
  });
  const [form, setForm] = useState<Form>(blank);
  useEffect(() => {
    if (q.data) setForm(fromAgent(q.data));
  }, [q.data]);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }));

  const save = useMutation({
    mutationFn: () =>
      isNew
        ? call(sdk.api.POST('/api/v1/agents', { body: toBody(form) }))
        : call(sdk.api.PATCH('/api/v1/agents/{id}', { params: { path: { id } }, body: toBody(form) })),
    onSuccess: (a) => {
      client.setQueryData(['agent', a.id], a);
      toast.success(`Agent ${a.name} saved (version ${a.version})`);
      void client.invalidateQueries({ queryKey: ['agents'] });
      if (isNew) void navigate({ to: '/agents/$id', params: { id: a.id }, replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => call(sdk.api.DELETE('/api/v1/agents/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ['agents'] });
      toast.success('Agent deleted');
      void navigate({ to: '/agents' });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <section>
      <PageHeader title={isNew ? 'New agent' : (q.data?.name ?? 'Agent')}>
        {q.data && (
          <span className="text-xs font-normal text-muted-foreground">version {q.data.version}</span>
        )}
        {!isNew && (
          <ConfirmButton
            label="Delete"
            question="Delete this agent? Workflows that use it will fail to run."
            onConfirm={() => remove.mutate()}
          />
        )}
      </PageHeader>
      <ErrorText error={q.error ?? remove.error} />
      {q.data && <AgentOrigin metadata={q.data.metadata} />}
      <div className="grid grid-cols-[minmax(0,3fr)_minmax(280px,2fr)] items-start gap-4">
        <form className="mb-4 rounded-lg border bg-card p-4 shadow-xs" onSubmit={submit} aria-label="Agent">
          <Field>
            Name
            <Input required value={form.name} onChange={(e) => set('name', e.target.value)} />
          </Field>
          <Field>
            Description
            <Input value={form.description} onChange={(e) => set('description', e.target.value)} />
          </Field>
          {form.kind !== 'external' && (
            <Field>
              Kind
              <Select value={form.kind} onChange={(e) => set('kind', e.target.value as Form['kind'])}>
                <option value="llm">Model (a prompt to a model)</option>
                <option value="code">Code (JavaScript or TypeScript in the sandbox)</option>
              </Select>
            </Field>
          )}
          {form.kind === 'code' && (
            <CodeFields
              c={{ type: 'code', language: form.language, code: form.code }}
              set={(field, value) => {
                if (field === 'language') set('language', value as Form['language']);
                if (field === 'code') set('code', (value as string | undefined) ?? '');
              }}
            />
          )}
          <Field>
            Model (provider:model)
            <Input list="models" required value={form.model} onChange={(e) => set('model', e.target.value)} />
            <datalist id="models">
              {MODELS.map((m) => (
                <option key={m} value={m} />
              ))}
            </datalist>
          </Field>
          <p className="text-xs font-normal text-muted-foreground">
            <code>simulator:echo</code> answers with the rendered prompt, free and offline. Real providers
            need an integration key.
          </p>
          <PromptField
            label="System prompt"
            rows={3}
            value={form.systemPrompt}
            onChange={(v) => set('systemPrompt', v)}
          />
          <PromptField
            label="Prompt"
            value={form.promptTemplate}
            onChange={(v) => set('promptTemplate', v)}
          />
          <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
            <Field>
              Temperature
              <Input
                type="number"
                min={0}
                max={2}
                step={0.1}
                value={form.temperature}
                onChange={(e) => set('temperature', e.target.value)}
              />
            </Field>
            <Field>
              Max tokens
              <Input
                type="number"
                min={1}
                step={1}
                value={form.maxTokens}
                onChange={(e) => set('maxTokens', e.target.value)}
              />
            </Field>
          </div>
          <fieldset>
            <legend>Tools the model may call</legend>
            {TOOLS.map((t) => (
              <Check key={t}>
                <input
                  className="size-4 accent-primary"
                  type="checkbox"
                  checked={form.tools.includes(t)}
                  onChange={(e) =>
                    set('tools', e.target.checked ? [...form.tools, t] : form.tools.filter((x) => x !== t))
                  }
                />
                {t}
              </Check>
            ))}
          </fieldset>
          <ErrorText error={save.error} />
          {save.isSuccess && (
            <p className="my-1.5 text-sm text-success">Saved as version {save.data.version}.</p>
          )}
          <Button type="submit" disabled={!canEdit || save.isPending}>
            {isNew ? 'Create agent' : 'Save'}
          </Button>
        </form>
        <div>
          {form.kind === 'llm' && <TryPanel agentId={isNew ? null : id} template={form.promptTemplate} />}
          {!isNew && <AgentVersions agentId={id} current={q.data?.versionNumber} />}
        </div>
      </div>
      {!isNew && q.data && <SchedulePanel agentId={id} kind={q.data.kind} />}
      {!isNew && (
        <Suspense fallback={null}>
          <AgentMetricsPanel agentId={id} />
        </Suspense>
      )}
    </section>
  );
}
