import type { paths } from '@aiops/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { type ChangeEvent, useState } from 'react';
import { api, call, sdk } from '../../api/client.ts';
import type { JsonContent, WorkflowSummary } from '../../api/types.ts';
import { Button, buttonVariants } from '../../ui/button.tsx';
import { Modal } from '../../ui/dialog.tsx';
import { Field, Input, Textarea } from '../../ui/form.tsx';
import { formatDuration, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { SortTh, Table, Td, useSort } from '../../ui/table.tsx';
import { AlertBadge } from '../alerts/AlertBadge.tsx';

const WORKFLOWS_COLUMNS = {
  name: (w: WorkflowSummary) => w.name,
  status: (w: WorkflowSummary) => w.status,
  version: (w: WorkflowSummary) => w.version,
  runs: (w: WorkflowSummary) => w.analytics.totalExecutions,
  duration: (w: WorkflowSummary) => w.analytics.averageDurationMs,
  last: (w: WorkflowSummary) => w.analytics.lastRunAt,
};

export default function WorkflowsPage() {
  const q = useQuery({
    queryKey: ['workflows'],
    queryFn: () => call(sdk.api.GET('/api/v1/workflows', { params: { query: { limit: 200 } } })),
  });
  const { rows: workflows, sort } = useSort(q.data?.data ?? [], WORKFLOWS_COLUMNS);
  const [importing, setImporting] = useState(false);
  return (
    <section>
      <PageHeader title="Workflows">
        <Button type="button" onClick={() => setImporting(true)}>
          Import
        </Button>
        <Link to="/workflows/$id" params={{ id: 'new' }} className={buttonVariants()}>
          New workflow
        </Link>
      </PageHeader>
      <ErrorText error={q.error} />
      {q.data && q.data.data.length === 0 && (
        <Empty title="No workflows yet">
          <p>
            A workflow connects steps: agents, tools, approvals, sub-workflows and an output. Build one in the
            editor by dragging steps from the palette and connecting them, or import a YAML/JSON definition.
          </p>
          <Link to="/workflows/$id" params={{ id: 'new' }} className={buttonVariants()}>
            Build your first workflow
          </Link>
        </Empty>
      )}
      {q.data && q.data.data.length > 0 && (
        <Table>
          <thead>
            <tr>
              <SortTh sort={sort} column="name">
                Name
              </SortTh>
              <SortTh sort={sort} column="status">
                Status
              </SortTh>
              <SortTh sort={sort} column="version">
                Version
              </SortTh>
              <SortTh sort={sort} column="runs">
                Runs
              </SortTh>
              <SortTh sort={sort} column="duration">
                Avg duration
              </SortTh>
              <SortTh sort={sort} column="last">
                Last run
              </SortTh>
            </tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <tr key={w.id} data-testid={`workflow-row-${w.name}`}>
                <Td>
                  <Link to="/workflows/$id" params={{ id: w.id }}>
                    {w.name}
                  </Link>{' '}
                  <AlertBadge workflowId={w.id} />
                  {w.description && (
                    <div className="text-xs font-normal text-muted-foreground">{w.description}</div>
                  )}
                </Td>
                <Td>
                  <Status value={w.status} />
                </Td>
                <Td>v{w.version}</Td>
                <Td>
                  <Link to="/runs" search={{ workflowId: w.id }}>
                    {w.analytics.totalExecutions}
                  </Link>
                </Td>
                <Td>{formatDuration(w.analytics.averageDurationMs)}</Td>
                <Td>
                  {w.analytics.lastRunStatus ? <Status value={w.analytics.lastRunStatus} /> : '—'}{' '}
                  {formatTime(w.analytics.lastRunAt)}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      {importing && <ImportDialog onClose={() => setImporting(false)} />}
    </section>
  );
}

/**
 * The import's answer, from the SDK's route types. The request stays an untyped call: its body is the raw
 * JSON or YAML text, which the OpenAPI document does not describe.
 */
type Imported = JsonContent<paths['/api/v1/workflows/import']['post']['responses'][201]>;

/**
 * Import a definition (ours, seed 000's, a task list or an n8n export) as JSON or YAML: pasted or from a
 * file. An n8n import shows its report (what became of each n8n node) before opening the workflow.
 */
function ImportDialog({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [text, setText] = useState('');
  const [imported, setImported] = useState<Imported | null>(null);
  const run = useMutation({
    mutationFn: () => {
      const json = /^\s*[{[]/.test(text);
      return api<Imported>('POST', '/workflows/import', undefined, {
        raw: { body: text, type: json ? 'application/json' : 'application/yaml' },
      });
    },
    onSuccess: (w) => {
      void client.invalidateQueries({ queryKey: ['workflows'] });
      if (w.report) setImported(w);
      else void navigate({ to: '/workflows/$id', params: { id: w.id } });
    },
  });
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) setText(await f.text());
  };
  if (imported?.report) {
    const counts = { converted: 0, approximated: 0, dropped: 0 };
    for (const e of imported.report) counts[e.status] += 1;
    return (
      <Modal title="n8n import report" onClose={onClose}>
        <p data-testid="import-summary">
          {imported.name}: {counts.converted} converted, {counts.approximated} approximated, {counts.dropped}{' '}
          dropped
        </p>
        <div className="max-h-96 overflow-auto">
          <Table aria-label="Import report">
            <thead>
              <tr>
                <th scope="col">n8n node</th>
                <th scope="col">Status</th>
                <th scope="col">Became</th>
                <th scope="col">Notes</th>
              </tr>
            </thead>
            <tbody>
              {imported.report.map((e) => (
                <tr key={e.node} data-testid={`report-${e.node}`}>
                  <Td>
                    {e.node}
                    <div className="text-xs text-muted-foreground">{e.type}</div>
                  </Td>
                  <Td>
                    <Status value={e.status} />
                  </Td>
                  <Td>{e.to ?? '—'}</Td>
                  <Td>{e.notes.join(' ')}</Td>
                </tr>
              ))}
            </tbody>
          </Table>
        </div>
        <div className="flex flex-wrap items-center justify-end gap-2">
          <Button type="button" variant="outline" onClick={onClose}>
            Close
          </Button>
          <Button
            type="button"
            onClick={() => void navigate({ to: '/workflows/$id', params: { id: imported.id } })}
          >
            Open workflow
          </Button>
        </div>
      </Modal>
    );
  }
  return (
    <Modal title="Import a workflow" onClose={onClose}>
      <Field>
        File (.yaml, .yml, .json; our format or an n8n export)
        <Input type="file" accept=".yaml,.yml,.json" onChange={onFile} />
      </Field>
      <Field>
        or paste the definition
        <Textarea rows={12} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </Field>
      <ErrorText error={run.error} />
      <div className="flex flex-wrap items-center justify-end gap-2">
        <Button type="button" variant="outline" onClick={onClose}>
          Cancel
        </Button>
        <Button type="button" disabled={!text.trim() || run.isPending} onClick={() => run.mutate()}>
          Import
        </Button>
      </div>
    </Modal>
  );
}
