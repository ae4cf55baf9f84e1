import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Check, Field, Input, Select } from '../../ui/form.tsx';
import { ErrorText, Panel } from '../../ui/page.tsx';

let rowKeys = 0;
const newRow = (model = 'simulator:echo'): Row => ({ key: ++rowKeys, model, integrationId: '' });

interface Row {
  key: number;
  model: string;
  integrationId: string;
}

/** The form that starts a conversation, with the platform's model recommendation beside the choice. */
export function NewConversation({ onCreated }: { onCreated: (id: string) => void }) {
  const client = useQueryClient();
  const [title, setTitle] = useState('');
  const [mode, setMode] = useState<'single' | 'multi' | 'collaborative'>('multi');
  const [rows, setRows] = useState<Row[]>(() => [newRow()]);
  const [rounds, setRounds] = useState(1);
  const [glossary, setGlossary] = useState(false);
  const integrations = useQuery({
    queryKey: ['integrations'],
    queryFn: () => call(sdk.api.GET('/api/v1/integrations')),
  });
  const rec = useQuery({
    queryKey: ['recommendations', 'chat'],
    queryFn: () =>
      call(sdk.api.GET('/api/v1/learning/recommendations', { params: { query: { task: 'chat' } } })),
  });
  const create = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/conversations', {
          body: {
            ...(title ? { title } : {}),
            mode,
            participants: rows
              .filter((r) => r.model.trim())
              .map((r) => ({
                model: r.model.trim(),
                ...(r.integrationId ? { integrationId: r.integrationId } : {}),
              })),
            settings: {
              ...(mode === 'collaborative' ? { rounds } : {}),
              ...(glossary ? { glossary: { enabled: true } } : {}),
            },
          },
        }),
      ),
    onSuccess: async (c) => {
      await client.invalidateQueries({ queryKey: ['conversations'] });
      onCreated(c.id);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const set = (i: number, patch: Partial<Row>) =>
    setRows((r) => r.map((x, j) => (j === i ? { ...x, ...patch } : x)));
  return (
    <Panel aria-label="New conversation">
      <form onSubmit={submit}>
        <Field>
          Title
          <Input value={title} onChange={(e) => setTitle(e.target.value)} />
        </Field>
        <Field>
          Mode
          <Select value={mode} onChange={(e) => setMode(e.target.value as typeof mode)}>
            <option value="single">single</option>
            <option value="multi">multi (side by side)</option>
            <option value="collaborative">collaborative (rounds + synthesis)</option>
          </Select>
        </Field>
        {mode === 'collaborative' && (
          <Field>
            Rounds
            <Input
              type="number"
              min={1}
              max={5}
              value={rounds}
              onChange={(e) => setRounds(Number(e.target.value))}
            />
          </Field>
        )}
        <fieldset className="mb-2">
          <legend className="text-sm font-medium">Participants</legend>
          {rows.map((r, i) => (
            <div key={r.key} className="mb-1 flex flex-col gap-1">
              <Input
                aria-label={`Participant ${i + 1} model`}
                value={r.model}
                onChange={(e) => set(i, { model: e.target.value })}
              />
              <Select
                aria-label={`Participant ${i + 1} integration`}
                value={r.integrationId}
                onChange={(e) => set(i, { integrationId: e.target.value })}
              >
                <option value="">default integration</option>
                {integrations.data?.data.map((x) => (
                  <option key={x.id} value={x.id}>
                    {x.name} ({x.provider})
                  </option>
                ))}
              </Select>
            </div>
          ))}
          <Button type="button" size="sm" variant="outline" onClick={() => setRows((r) => [...r, newRow()])}>
            Add participant
          </Button>
        </fieldset>
        {rec.data && (
          <p className="mb-2 text-xs text-muted-foreground" data-testid="recommendation">
            {rec.data.recommended ? (
              <>
                Recommended: <code>{rec.data.recommended}</code> — {rec.data.reason}{' '}
                <button
                  type="button"
                  className="underline"
                  onClick={() => setRows((r) => [...r, newRow(rec.data.recommended!)])}
                >
                  add it
                </button>
              </>
            ) : (
              rec.data.reason
            )}
          </p>
        )}
        <Check>
          <input type="checkbox" checked={glossary} onChange={(e) => setGlossary(e.target.checked)} /> Use the
          glossary
        </Check>
        <Button type="submit" disabled={create.isPending}>
          Start conversation
        </Button>
        <ErrorText error={create.error} />
      </form>
    </Panel>
  );
}
