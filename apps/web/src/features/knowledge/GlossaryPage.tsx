import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Check, Field, Input, Select, Textarea } from '../../ui/form.tsx';
import { Empty, ErrorText, PageHeader, Panel } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import type { SearchHit, Term } from './types.ts';

const CONTEXTS = ['technical', 'business', 'personal', 'casual'] as const;

/** The terminology dictionary: hybrid search, add and edit entries, import CSV or JSON. */
export default function GlossaryPage() {
  const [q, setQ] = useState('');
  const [editing, setEditing] = useState<Term | 'new' | null>(null);
  const list = useQuery({
    queryKey: ['terminology'],
    queryFn: () => call(sdk.api.GET('/api/v1/terminology', { params: { query: { limit: 500 } } })),
  });
  const search = useQuery({
    queryKey: ['terminology-search', q],
    queryFn: () => call(sdk.api.GET('/api/v1/terminology/search', { params: { query: { q, limit: 20 } } })),
    enabled: q.trim().length > 0,
  });
  const rows: { entry: Term; hit?: SearchHit }[] = q.trim()
    ? (search.data?.data ?? []).map((h) => ({ entry: h.entry, hit: h }))
    : (list.data?.data ?? []).map((entry) => ({ entry }));
  return (
    <section>
      <PageHeader title="Glossary">
        <Button onClick={() => setEditing('new')}>New term</Button>
      </PageHeader>
      <Field>
        Search (exact, full-text, fuzzy and by meaning)
        <Input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. churn" />
      </Field>
      <ErrorText error={list.error ?? search.error} />
      {editing && (
        <TermForm
          key={editing === 'new' ? 'new' : editing.id}
          term={editing === 'new' ? null : editing}
          onDone={() => setEditing(null)}
        />
      )}
      {list.data && list.data.data.length === 0 && !q && (
        <Empty title="No terms yet">
          <p>
            Terms you define here are explained to models: turn the glossary on for a conversation, or for an
            agent (<code>memoryConfig.glossary</code>), and the terms a prompt uses go into its system prompt.
          </p>
        </Empty>
      )}
      {rows.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Term</Th>
              <Th>Definition</Th>
              <Th>Context</Th>
              <Th>Visibility</Th>
              <Th>Used</Th>
              {q && <Th>Match</Th>}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ entry, hit }) => (
              <tr key={entry.id} data-testid="term-row">
                <Td>
                  <button
                    type="button"
                    className="text-left font-semibold underline-offset-2 hover:underline"
                    onClick={() => setEditing(entry)}
                  >
                    {entry.term}
                  </button>
                  {entry.tags.length > 0 && (
                    <span className="block text-xs text-muted-foreground">{entry.tags.join(', ')}</span>
                  )}
                </Td>
                <Td>{entry.definition}</Td>
                <Td>{entry.context ?? '—'}</Td>
                <Td>{entry.isPublic ? 'organization' : 'only me'}</Td>
                <Td>{entry.frequency}</Td>
                {hit && (
                  <Td className="text-xs" data-testid="term-match">
                    {[
                      hit.match.exact && 'exact',
                      hit.match.fullText !== null && 'full-text',
                      hit.match.fuzzy !== null && 'fuzzy',
                      hit.match.semantic !== null && `meaning ${hit.match.semantic.toFixed(2)}`,
                    ]
                      .filter(Boolean)
                      .join(' · ')}
                  </Td>
                )}
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {q && search.data && search.data.data.length === 0 && (
        <p className="text-sm text-muted-foreground">No match.</p>
      )}
      <ImportPanel />
    </section>
  );
}

function TermForm({ term, onDone }: { term: Term | null; onDone: () => void }) {
  const client = useQueryClient();
  const context: NonNullable<Term['context']> | '' = term?.context ?? '';
  const [form, setForm] = useState({
    term: term?.term ?? '',
    definition: term?.definition ?? '',
    context,
    tags: term?.tags.join(', ') ?? '',
    isPublic: term?.isPublic ?? true,
  });
  const body = () => ({
    term: form.term,
    definition: form.definition,
    context: form.context || null,
    tags: form.tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    isPublic: form.isPublic,
  });
  const done = async () => {
    await client.invalidateQueries({ queryKey: ['terminology'] });
    await client.invalidateQueries({ queryKey: ['terminology-search'] });
    onDone();
  };
  const save = useMutation({
    mutationFn: () =>
      term
        ? call(sdk.api.PATCH('/api/v1/terminology/{id}', { params: { path: { id: term.id } }, body: body() }))
        : call(sdk.api.POST('/api/v1/terminology', { body: body() })),
    onSuccess: done,
  });
  const remove = useMutation({
    mutationFn: () =>
      call(sdk.api.DELETE('/api/v1/terminology/{id}', { params: { path: { id: term!.id } } })),
    onSuccess: done,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Panel aria-label={term ? `Edit ${term.term}` : 'New term'}>
      <form onSubmit={submit}>
        <Field>
          Term
          <Input value={form.term} onChange={(e) => setForm({ ...form, term: e.target.value })} required />
        </Field>
        <Field>
          Definition
          <Textarea
            value={form.definition}
            onChange={(e) => setForm({ ...form, definition: e.target.value })}
            required
          />
        </Field>
        <Field>
          Context
          <Select
            value={form.context}
            onChange={(e) => setForm({ ...form, context: CONTEXTS.find((c) => c === e.target.value) ?? '' })}
          >
            <option value="">none</option>
            {CONTEXTS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </Select>
        </Field>
        <Field>
          Tags (comma-separated)
          <Input value={form.tags} onChange={(e) => setForm({ ...form, tags: e.target.value })} />
        </Field>
        <Check>
          <input
            type="checkbox"
            checked={form.isPublic}
            onChange={(e) => setForm({ ...form, isPublic: e.target.checked })}
          />{' '}
          Visible to the whole organization (otherwise only to you)
        </Check>
        <div className="flex gap-2">
          <Button type="submit" disabled={save.isPending}>
            Save term
          </Button>
          <Button type="button" variant="outline" onClick={onDone}>
            Cancel
          </Button>
          {term && (
            <Button type="button" variant="destructive" onClick={() => remove.mutate()}>
              Delete
            </Button>
          )}
        </div>
        <ErrorText error={save.error ?? remove.error} />
      </form>
    </Panel>
  );
}

function ImportPanel() {
  const client = useQueryClient();
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [data, setData] = useState('');
  const run = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/terminology/import', { body: { format, data } })),
    onSuccess: () => client.invalidateQueries({ queryKey: ['terminology'] }),
  });
  return (
    <Panel aria-label="Import" className="mt-4">
      <h2>Import</h2>
      <p className="text-xs text-muted-foreground">
        CSV with a header row <code>term,definition,context,tags,usage_examples,related_terms,is_public</code>{' '}
        (lists separated by <code>|</code>), or a JSON array. Export:{' '}
        <a href="/api/v1/terminology/export?format=csv">CSV</a>,{' '}
        <a href="/api/v1/terminology/export?format=json">JSON</a>.
      </p>
      <Field>
        Format
        <Select value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'json')}>
          <option value="csv">CSV</option>
          <option value="json">JSON</option>
        </Select>
      </Field>
      <Field>
        Data
        <Textarea rows={5} value={data} onChange={(e) => setData(e.target.value)} />
      </Field>
      <Button onClick={() => run.mutate()} disabled={!data.trim() || run.isPending}>
        Import
      </Button>
      {run.data && (
        <p className="text-sm" role="status">
          {run.data.created} created, {run.data.updated} updated
        </p>
      )}
      <ErrorText error={run.error} />
    </Panel>
  );
}
