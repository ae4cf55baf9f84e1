import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, FieldRow, Hint, Input, Select, Textarea } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';
import { type Dataset, short } from './types.ts';

/** The rows an import refused, by line (the server's 400 `import_rows_invalid`). */
function BadRows({ error }: { error: unknown }) {
  const rows =
    error instanceof ApiError && error.code === 'import_rows_invalid'
      ? ((error.details?.rows as { line: number; message: string }[] | undefined) ?? [])
      : [];
  if (!rows.length) return <ErrorText error={error} />;
  return (
    <div role="alert" className="my-1.5 text-sm text-destructive">
      <p className="font-medium">Nothing was imported: fix these rows and import again.</p>
      <ul aria-label="Rejected rows" className="list-disc pl-5">
        {rows.map((r) => (
          <li key={r.line}>
            line {r.line}: {r.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function ImportForm({ dataset, onDone }: { dataset: Dataset; onDone: () => void }) {
  const [format, setFormat] = useState<'csv' | 'jsonl'>('csv');
  const [content, setContent] = useState('');
  const run = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/datasets/{id}/import', {
          params: { path: { id: dataset.id } },
          body: { format, content },
        }),
      ),
    onSuccess: (r) => {
      toast.success(`Imported ${r.data.length} items (version ${r.version})`);
      setContent('');
      onDone();
    },
  });
  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setFormat(file.name.endsWith('.csv') ? 'csv' : 'jsonl');
    setContent(await file.text());
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    run.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Import items" className="mt-3">
      <FieldRow>
        <Field>
          Format
          <Select value={format} onChange={(e) => setFormat(e.target.value as 'csv' | 'jsonl')}>
            <option value="csv">CSV (header: input, expected_output, …)</option>
            <option value="jsonl">JSON Lines</option>
          </Select>
        </Field>
        <Field>
          File
          <Input
            type="file"
            accept=".csv,.jsonl,.json,.txt"
            onChange={(e) => void readFile(e.target.files?.[0])}
          />
        </Field>
      </FieldRow>
      <Field>
        Content
        <Textarea required rows={5} value={content} onChange={(e) => setContent(e.target.value)} />
      </Field>
      <BadRows error={run.error} />
      <Button type="submit" size="sm" disabled={run.isPending}>
        Import
      </Button>
    </form>
  );
}

function DatasetPanel({ dataset }: { dataset: Dataset }) {
  const client = useQueryClient();
  const canEdit = useCan('workflow:update');
  const key = ['dataset-items', dataset.id];
  const items = useQuery({
    queryKey: key,
    queryFn: () => call(sdk.api.GET('/api/v1/datasets/{id}/items', { params: { path: { id: dataset.id } } })),
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: key });
    void client.invalidateQueries({ queryKey: ['datasets'] });
  };
  const [input, setInput] = useState('');
  const [expected, setExpected] = useState('');
  const json = (s: string) => {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return s;
    }
  };
  const add = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/datasets/{id}/items', {
          params: { path: { id: dataset.id } },
          body: {
            items: [{ input: json(input), ...(expected.trim() ? { expectedOutput: json(expected) } : {}) }],
          },
        }),
      ),
    onSuccess: () => {
      setInput('');
      setExpected('');
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (itemId: string) =>
      call(
        sdk.api.DELETE('/api/v1/datasets/{id}/items/{itemId}', {
          params: { path: { id: dataset.id, itemId } },
        }),
      ),
    onSuccess: refresh,
  });
  const rows = items.data?.data ?? [];
  return (
    <Panel aria-label={`Dataset ${dataset.name}`}>
      <h2 className="mb-1 text-base font-semibold">
        {dataset.name}{' '}
        <span className="text-sm text-muted-foreground">
          version {items.data?.version ?? dataset.version}
        </span>
      </h2>
      <ErrorText error={items.error ?? remove.error} />
      {items.data && rows.length === 0 && (
        <Hint>
          No items yet: add one below, import a file, or add a run from its page (“Add to dataset”).
        </Hint>
      )}
      {rows.length > 0 && (
        <Table aria-label="Items">
          <thead>
            <tr>
              <Th>Input</Th>
              <Th>Expected output</Th>
              <Th>Metadata</Th>
              <Th>Source</Th>
              <Th>Added</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {rows.map((i) => (
              <tr key={i.id}>
                <Td className="max-w-72 font-mono text-xs">{short(i.input)}</Td>
                <Td className="max-w-72 font-mono text-xs">{short(i.expectedOutput)}</Td>
                <Td className="max-w-48 font-mono text-xs">
                  {Object.keys(i.metadata).length ? short(i.metadata) : ''}
                </Td>
                <Td>{i.sourceRunId ? <a href={`/runs/${i.sourceRunId}`}>run</a> : 'added'}</Td>
                <Td>
                  v{i.addedInVersion} · {formatTime(i.createdAt)}
                </Td>
                <Td>
                  {canEdit && (
                    <Button type="button" size="sm" variant="outline" onClick={() => remove.mutate(i.id)}>
                      Remove
                    </Button>
                  )}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {canEdit && (
        <>
          <form
            aria-label="Add an item"
            className="mt-3"
            onSubmit={(e) => {
              e.preventDefault();
              add.mutate();
            }}
          >
            <FieldRow>
              <Field>
                Input (JSON or text)
                <Input required value={input} onChange={(e) => setInput(e.target.value)} />
              </Field>
              <Field>
                Expected output (optional)
                <Input value={expected} onChange={(e) => setExpected(e.target.value)} />
              </Field>
            </FieldRow>
            <ErrorText error={add.error} />
            <Button type="submit" size="sm" variant="outline" disabled={add.isPending}>
              Add item
            </Button>
          </form>
          <ImportForm dataset={dataset} onDone={refresh} />
        </>
      )}
    </Panel>
  );
}

/** Datasets: items with input, expected output and metadata, versioned, to run experiments on (issue 16). */
export default function DatasetsPage() {
  const client = useQueryClient();
  const canCreate = useCan('workflow:create');
  const list = useQuery({ queryKey: ['datasets'], queryFn: () => call(sdk.api.GET('/api/v1/datasets')) });
  const [name, setName] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => call(sdk.api.POST('/api/v1/datasets', { body: { name } })),
    onSuccess: (d) => {
      toast.success(`Dataset ${d.name} created`);
      setName('');
      setSelected(d.id);
      void client.invalidateQueries({ queryKey: ['datasets'] });
    },
  });
  const rows = list.data?.data ?? [];
  const current = rows.find((d) => d.id === selected) ?? rows[0];
  return (
    <section>
      <PageHeader title="Datasets" />
      <Hint className="mb-3">
        A dataset is a list of inputs with their expected outputs. Every change is a new version; experiments
        run a workflow version over a dataset version and score each item with your evaluators.
      </Hint>
      {canCreate && (
        <Panel>
          <form
            aria-label="Create a dataset"
            className="flex items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate();
            }}
          >
            <Field>
              Name
              <Input required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
            </Field>
            <Button type="submit" disabled={create.isPending}>
              Create dataset
            </Button>
          </form>
          <ErrorText error={create.error} />
        </Panel>
      )}
      <ErrorText error={list.error} />
      {list.data && rows.length === 0 && (
        <Empty title="No datasets">
          <p>Create one above, then add items, import a CSV or JSON Lines file, or add production runs.</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <Table aria-label="Datasets">
          <thead>
            <tr>
              <Th>Name</Th>
              <Th>Items</Th>
              <Th>Version</Th>
              <Th>Updated</Th>
            </tr>
          </thead>
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} className={d.id === current?.id ? 'bg-muted' : ''}>
                <Td>
                  <button type="button" className="underline" onClick={() => setSelected(d.id)}>
                    {d.name}
                  </button>
                </Td>
                <Td>{d.itemCount}</Td>
                <Td>v{d.version}</Td>
                <Td>{formatTime(d.updatedAt)}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {current && <DatasetPanel key={current.id} dataset={current} />}
    </section>
  );
}
