import type { paths } from '@aiops/sdk';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { Button } from '../../ui/button.tsx';
import { Field, Input, Select } from '../../ui/form.tsx';
import { formatCost, formatDuration, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';

export interface TracesSearch {
  source?: string;
  name?: string;
  status?: string;
  model?: string;
  minCost?: string;
  minDurationMs?: string;
  tag?: string;
  q?: string;
}
const FIELDS = ['source', 'name', 'status', 'model', 'minCost', 'minDurationMs', 'tag', 'q'] as const;

type TraceQuery = NonNullable<paths['/api/v1/traces']['get']['parameters']['query']>;

/**
 * The list's query from the URL's filters. The URL is the user's to edit: a value the server does not
 * accept (an unknown status, a cost that is not a number) goes as it is, and the server's refusal shows.
 */
const traceQuery = (s: TracesSearch): TraceQuery => ({
  source: (s.source || undefined) as TraceQuery['source'],
  name: s.name || undefined,
  status: (s.status || undefined) as TraceQuery['status'],
  model: s.model || undefined,
  minCost: s.minCost ? Number(s.minCost) : undefined,
  minDurationMs: s.minDurationMs ? Number(s.minDurationMs) : undefined,
  tag: s.tag || undefined,
  q: s.q || undefined,
  limit: 100,
});

const statusLabel = (s: string) => (s === 'ok' ? 'completed' : s === 'error' ? 'failed' : s);

/** Runs and traces ingested over OTLP, in one list, with filters (kept in the URL) and free-text search. */
export default function TracesPage() {
  const search = useSearch({ from: '/app/traces' });
  const navigate = useNavigate();
  const [draft, setDraft] = useState<TracesSearch>(search);
  const traces = useQuery({
    queryKey: ['traces', search],
    queryFn: () => call(sdk.api.GET('/api/v1/traces', { params: { query: traceQuery(search) } })),
    refetchInterval: 5000,
  });
  const apply = (next: TracesSearch) => {
    const clean = Object.fromEntries(FIELDS.map((k) => [k, next[k]?.trim() || undefined]));
    void navigate({ to: '/traces', search: clean, replace: true });
  };
  const set = (k: keyof TracesSearch, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const list = traces.data?.data ?? [];
  const filtered = FIELDS.some((k) => search[k]);
  return (
    <section>
      <PageHeader title="Traces" />
      <form
        className="mb-3 flex flex-wrap items-end gap-3 [&>label]:min-w-36"
        aria-label="Trace filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <Field>
          Search
          <Input
            type="search"
            value={draft.q ?? ''}
            onChange={(e) => set('q', e.target.value)}
            maxLength={200}
            placeholder="name, id, error"
          />
        </Field>
        <Field>
          Source
          <Select value={draft.source ?? ''} onChange={(e) => apply({ ...draft, source: e.target.value })}>
            <option value="">all</option>
            <option value="run">runs</option>
            <option value="otlp">ingested (OTLP)</option>
          </Select>
        </Field>
        <Field>
          Status
          <Select value={draft.status ?? ''} onChange={(e) => apply({ ...draft, status: e.target.value })}>
            <option value="">all</option>
            <option value="ok">ok</option>
            <option value="error">error</option>
            <option value="running">running</option>
            <option value="unset">unset / cancelled</option>
          </Select>
        </Field>
        <Field>
          Name
          <Input value={draft.name ?? ''} onChange={(e) => set('name', e.target.value)} maxLength={200} />
        </Field>
        <Field>
          Model
          <Input value={draft.model ?? ''} onChange={(e) => set('model', e.target.value)} maxLength={200} />
        </Field>
        <Field>
          Min cost (USD)
          <Input
            type="number"
            min={0}
            step="any"
            value={draft.minCost ?? ''}
            onChange={(e) => set('minCost', e.target.value)}
          />
        </Field>
        <Field>
          Min duration (ms)
          <Input
            type="number"
            min={0}
            value={draft.minDurationMs ?? ''}
            onChange={(e) => set('minDurationMs', e.target.value)}
          />
        </Field>
        <Field>
          Tag
          <Input value={draft.tag ?? ''} onChange={(e) => set('tag', e.target.value)} maxLength={200} />
        </Field>
        <Button type="submit">Apply</Button>
      </form>
      <ErrorText error={traces.error} />
      {traces.data && list.length === 0 && (
        <Empty title={filtered ? 'No traces match these filters' : 'No traces yet'}>
          <p>Every run is a trace; agents outside the platform send theirs to POST /api/v1/otel/v1/traces.</p>
        </Empty>
      )}
      {list.length > 0 && (
        <Table>
          <thead>
            <tr>
              <Th>Name</Th>
              <Th>Source</Th>
              <Th>Status</Th>
              <Th>Started</Th>
              <Th>Duration</Th>
              <Th>Tokens</Th>
              <Th>Cost</Th>
              <Th>Models</Th>
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={`${t.source}:${t.traceId}:${t.runId ?? ''}`} data-testid="trace-row">
                <Td>
                  {t.runId ? (
                    <Link to="/runs/$id" params={{ id: t.runId }}>
                      {t.name}
                    </Link>
                  ) : (
                    <Link to="/traces/$traceId" params={{ traceId: t.traceId }}>
                      {t.name}
                    </Link>
                  )}
                  <div className="text-xs text-muted-foreground">
                    <code>{t.traceId.slice(0, 12)}</code>
                    {t.serviceName ? ` · ${t.serviceName}` : ''}
                  </div>
                </Td>
                <Td>{t.source === 'run' ? 'run' : 'OTLP'}</Td>
                <Td>
                  <Status value={statusLabel(t.status)} />
                </Td>
                <Td>{formatTime(t.startTime)}</Td>
                <Td>{formatDuration(t.durationMs)}</Td>
                <Td>{t.totalTokens ?? '—'}</Td>
                <Td>{t.cost === null ? '—' : formatCost(Number(t.cost))}</Td>
                <Td className="text-xs">{t.models.join(', ')}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
    </section>
  );
}
