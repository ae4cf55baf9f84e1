import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ChangeEvent, useState } from 'react';
import { api, get } from '../../api/client.ts';
import type { Page, Workflow, WorkflowSummary } from '../../api/types.ts';
import { Link, navigate } from '../../app/router.tsx';
import { formatDuration, formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, Modal, PageHeader, Status } from '../../ui/kit.tsx';

export default function WorkflowsPage() {
  const q = useQuery({
    queryKey: ['workflows'],
    queryFn: () => get<Page<WorkflowSummary>>('/workflows?limit=200'),
  });
  const [importing, setImporting] = useState(false);
  return (
    <section>
      <PageHeader title="Workflows">
        <button type="button" onClick={() => setImporting(true)}>
          Import
        </button>
        <Link to="/workflows/new" className="button">
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
          <Link to="/workflows/new" className="button">
            Build your first workflow
          </Link>
        </Empty>
      )}
      {q.data && q.data.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Version</th>
              <th>Runs</th>
              <th>Avg duration</th>
              <th>Last run</th>
            </tr>
          </thead>
          <tbody>
            {q.data.data.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/workflows/${w.id}`}>{w.name}</Link>
                  {w.description && <div className="hint">{w.description}</div>}
                </td>
                <td>
                  <Status value={w.status} />
                </td>
                <td>v{w.version}</td>
                <td>
                  <Link to={`/runs?workflowId=${w.id}`}>{w.analytics.totalExecutions}</Link>
                </td>
                <td>{formatDuration(w.analytics.averageDurationMs)}</td>
                <td>
                  {w.analytics.lastRunStatus ? <Status value={w.analytics.lastRunStatus} /> : '—'}{' '}
                  {formatTime(w.analytics.lastRunAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {importing && <ImportDialog onClose={() => setImporting(false)} />}
    </section>
  );
}

/** Import a definition (ours, seed 000's or a task list) as JSON or YAML: pasted or from a file. */
function ImportDialog({ onClose }: { onClose: () => void }) {
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
      navigate(`/workflows/${w.id}`);
    },
  });
  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f) setText(await f.text());
  };
  return (
    <Modal title="Import a workflow" onClose={onClose}>
      <label>
        File (.yaml, .yml, .json)
        <input type="file" accept=".yaml,.yml,.json" onChange={onFile} />
      </label>
      <label>
        or paste the definition
        <textarea rows={12} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </label>
      <ErrorText error={run.error} />
      <div className="actions">
        <button type="button" className="ghost" onClick={onClose}>
          Cancel
        </button>
        <button type="button" disabled={!text.trim() || run.isPending} onClick={() => run.mutate()}>
          Import
        </button>
      </div>
    </Modal>
  );
}
