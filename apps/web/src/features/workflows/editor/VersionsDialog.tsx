import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { get, post } from '../../../api/client.ts';
import type { Workflow, WorkflowVersion } from '../../../api/types.ts';
import { formatTime } from '../../../ui/format.ts';
import { ErrorText, Modal } from '../../../ui/kit.tsx';
import { diffLines } from './diff.ts';

/** Saved versions: compare any two, make an old one current again (saved as a new version). */
export function VersionsDialog({
  workflowId,
  onClose,
  onRolledBack,
}: {
  workflowId: string;
  onClose: () => void;
  onRolledBack: (w: Workflow) => void;
}) {
  const q = useQuery({
    queryKey: ['workflow-versions', workflowId],
    queryFn: () => get<{ data: WorkflowVersion[] }>(`/workflows/${workflowId}/versions`),
  });
  const versions = q.data?.data ?? [];
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const left = versions.find((v) => v.version === (a ?? versions[1]?.version));
  const right = versions.find((v) => v.version === (b ?? versions[0]?.version));
  const rollback = useMutation({
    mutationFn: (version: number) => post<Workflow>(`/workflows/${workflowId}/rollback`, { version }),
    onSuccess: onRolledBack,
  });
  const show = (v: WorkflowVersion | undefined) => (v ? JSON.stringify(v.definition, null, 2) : '');
  return (
    <Modal title="Version history" onClose={onClose} wide>
      <ErrorText error={q.error ?? rollback.error} />
      <div className="versions">
        <table>
          <thead>
            <tr>
              <th>Version</th>
              <th>Saved</th>
              <th>Note</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v, i) => (
              <tr key={v.version}>
                <td>v{v.version}</td>
                <td>{formatTime(v.createdAt)}</td>
                <td>{v.changeNote ?? ''}</td>
                <td>
                  {i > 0 && (
                    <button type="button" className="small" onClick={() => rollback.mutate(v.version)}>
                      Roll back to v{v.version}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {versions.length > 1 ? (
          <div>
            <div className="row">
              <label>
                Compare
                <select value={left?.version ?? ''} onChange={(e) => setA(Number(e.target.value))}>
                  {versions.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </select>
              </label>
              <label>
                with
                <select value={right?.version ?? ''} onChange={(e) => setB(Number(e.target.value))}>
                  {versions.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <pre className="diff" data-testid="version-diff">
              {diffLines(show(left), show(right)).map((l, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: diff lines are positional
                <div key={i} className={`diff-${l.kind}`}>
                  {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
                  {l.text}
                </div>
              ))}
            </pre>
          </div>
        ) : (
          <p className="hint">Save again to have two versions to compare.</p>
        )}
      </div>
    </Modal>
  );
}
