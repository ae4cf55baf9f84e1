import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Modal } from '../../ui/dialog.tsx';
import { Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { ErrorText, PageHeader } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import type { AgentType } from './types.ts';

/** The agent catalog: types from the server's definition files; each can become an agent of this org. */
export default function CatalogPage() {
  const [category, setCategory] = useState('');
  const [text, setText] = useState('');
  const [chosen, setChosen] = useState<AgentType | null>(null);
  const q = useQuery({
    queryKey: ['agent-types', category, text],
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/agent-types', {
          params: { query: { category: category || undefined, q: text || undefined } },
        }),
      ),
  });
  return (
    <section>
      <PageHeader title="Agent catalog" />
      <p className="mb-3 max-w-3xl text-sm text-muted-foreground">
        Ready-made agent types. Pick one, fill in what it asks for, and it becomes an agent of your
        organization that you can change, try and use in workflows.
      </p>
      <FieldRow className="max-w-3xl">
        <Field>
          Category
          <Select value={category} onChange={(e) => setCategory(e.target.value)}>
            <option value="">All categories</option>
            {q.data?.categories.map((c) => (
              <option key={c} value={c}>
                {c.replace(/_/g, ' ')}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Search
          <Input value={text} onChange={(e) => setText(e.target.value)} placeholder="name, capability…" />
        </Field>
      </FieldRow>
      <ErrorText error={q.error} />
      <ul className="grid grid-cols-[repeat(auto-fill,minmax(280px,1fr))] gap-3">
        {q.data?.data.map((t) => (
          <li
            key={t.id}
            className="flex flex-col gap-2 rounded-lg border bg-card p-4"
            data-testid={`type-${t.id}`}
          >
            <h3 className="text-base font-semibold">{t.name}</h3>
            <p className="text-xs text-muted-foreground">
              {t.category.replace(/_/g, ' ')} · v{t.version} · <code>{t.model}</code>
            </p>
            <p className="text-sm">{t.description}</p>
            <p className="flex flex-wrap gap-1">
              {t.capabilities.map((c) => (
                <span key={c} className="rounded bg-muted px-1.5 text-xs">
                  {c}
                </span>
              ))}
            </p>
            <Button
              className="mt-auto self-start"
              onClick={() => setChosen(t)}
              aria-label={`Create agent from ${t.name}`}
            >
              Create agent
            </Button>
          </li>
        ))}
      </ul>
      {chosen && <CreateFromType type={chosen} onClose={() => setChosen(null)} />}
    </section>
  );
}

function CreateFromType({ type, onClose }: { type: AgentType; onClose: () => void }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [name, setName] = useState(type.name);
  const [model, setModel] = useState(type.model);
  const [params, setParams] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/agent-types/{id}/agents', {
          params: { path: { id: type.id } },
          body: { name, params, config: { model } },
        }),
      ),
    onSuccess: (agent) => {
      toast.success(`Agent ${agent.name} created`);
      void client.invalidateQueries({ queryKey: ['agents'] });
      void navigate({ to: '/agents/$id', params: { id: agent.id } });
    },
  });
  return (
    <Modal title={`New agent from ${type.name}`} onClose={onClose}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Field>
          Agent name
          <Input value={name} onChange={(e) => setName(e.target.value)} required maxLength={255} />
        </Field>
        <Field>
          Model
          <Input value={model} onChange={(e) => setModel(e.target.value)} required />
          <Hint>provider:model. simulator:echo runs without any provider key.</Hint>
        </Field>
        {type.requiredParams.map((p) => (
          <Field key={p.name}>
            {p.description ?? p.name}
            <Input
              value={params[p.name] ?? ''}
              onChange={(e) => setParams({ ...params, [p.name]: e.target.value })}
              required
            />
          </Field>
        ))}
        <ErrorText error={create.error} />
        <Button type="submit" disabled={create.isPending}>
          Create agent
        </Button>
      </form>
    </Modal>
  );
}
