import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { type ChangeEvent, useState } from 'react';
import { api, get } from '../../api/client.ts';
import type { Page, Workflow, WorkflowSummary } from '../../api/types.ts';
import { Button, buttonVariants } from '../../ui/button.tsx';
import { Modal } from '../../ui/dialog.tsx';
import { Field, Input, Textarea } from '../../ui/form.tsx';
import { formatDuration, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Status } from '../../ui/page.tsx';
import { SortTh, Table, Td, useSort } from '../../ui/table.tsx';

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
    queryFn: () => get<Page<WorkflowSummary>>('/workflows?limit=200'),
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
              <tr key={w.id}>
                <Td>
                  <Link to="/workflows/$id" params={{ id: w.id }}>
                    {w.name}
                  </Link>
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

/** Import a definition (ours, seed 000's or a task list) as JSON or YAML: pasted or from a file. */
function ImportDialog({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [text, setText] = useState('');
  const run = useMutation({
    mutationFn: () => {
      const json = /^\s*[{[]/.test(text);
      return api<Workflow>('POST', '/workflows/import', undefined, {
        raw: { body: text, type: json ? 'application/json' : 'application/yaml' },
      });
    },
    onSuccess: (w) => {
      void client.invalidateQueries({ queryKey: ['workflows'] });
      void navigate({ to: '/workflows/$id', params: { id: w.id } });
    },
  });
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) setText(await f.text());
  };
  return (
    <Modal title="Import a workflow" onClose={onClose}>
      <Field>
        File (.yaml, .yml, .json)
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
