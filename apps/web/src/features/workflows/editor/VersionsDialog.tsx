import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { Workflow, WorkflowVersion } from '../../../api/types.ts';
import { Button } from '../../../ui/button.tsx';
import { cn } from '../../../ui/cn.ts';
import { Modal } from '../../../ui/dialog.tsx';
import { Field, Select } from '../../../ui/form.tsx';
import { formatTime } from '../../../ui/format.ts';
import { ErrorText } from '../../../ui/page.tsx';
import { Table, Td, Th } from '../../../ui/table.tsx';
import { toast } from '../../../ui/toast.tsx';
import { isPromotionError, PromotionCheck } from '../../experiments/PromotionCheck.tsx';
import { diffLines } from './diff.ts';

/** Saved versions: compare any two, make an old one current again (saved as a new version). */
export function VersionsDialog({
  workflowId,
  current,
  onClose,
  onRolledBack,
}: {
  workflowId: string;
  /** The current version: the others can be made current (a candidate above it is promoted). */
  current: number;
  onClose: () => void;
  onRolledBack: (w: Workflow) => void;
}) {
  const q = useQuery({
    queryKey: ['workflow-versions', workflowId],
    queryFn: () =>
      call(sdk.api.GET('/api/v1/workflows/{id}/versions', { params: { path: { id: workflowId } } })),
  });
  const versions = q.data?.data ?? [];
  const [a, setA] = useState<number | null>(null);
  const [b, setB] = useState<number | null>(null);
  const left = versions.find((v) => v.version === (a ?? versions[1]?.version));
  const right = versions.find((v) => v.version === (b ?? versions[0]?.version));
  const rollback = useMutation({
    mutationFn: (version: number) =>
      call(
        sdk.api.POST('/api/v1/workflows/{id}/rollback', {
          params: { path: { id: workflowId } },
          body: { version },
        }),
      ),
    onSuccess: (w) => {
      toast.success(`Rolled back: ${w.name} is now version ${w.version}`);
      onRolledBack(w);
    },
  });
  const show = (v: WorkflowVersion | undefined) => (v ? JSON.stringify(v.definition, null, 2) : '');
  return (
    <Modal title="Version history" onClose={onClose} wide>
      {isPromotionError(rollback.error) ? (
        <PromotionCheck error={rollback.error} workflowId={workflowId} onPromoted={onRolledBack} />
      ) : (
        <ErrorText error={q.error ?? rollback.error} />
      )}
      <div className="grid gap-3">
        <Table>
          <thead>
            <tr>
              <Th>Version</Th>
              <Th>Saved</Th>
              <Th>Note</Th>
              <Th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <Td>v{v.version}</Td>
                <Td>{formatTime(v.createdAt)}</Td>
                <Td>{v.changeNote ?? ''}</Td>
                <Td>
                  {v.version !== current && (
                    <Button type="button" size="sm" onClick={() => rollback.mutate(v.version)}>
                      {v.version > current ? `Promote v${v.version}` : `Roll back to v${v.version}`}
                    </Button>
                  )}
                  {v.version === current && <span className="text-xs text-muted-foreground">current</span>}
                </Td>
              </tr>
            ))}
          </tbody>
        </Table>
        {versions.length > 1 ? (
          <div>
            <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
              <Field>
                Compare
                <Select value={left?.version ?? ''} onChange={(e) => setA(Number(e.target.value))}>
                  {versions.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </Select>
              </Field>
              <Field>
                with
                <Select value={right?.version ?? ''} onChange={(e) => setB(Number(e.target.value))}>
                  {versions.map((v) => (
                    <option key={v.version} value={v.version}>
                      v{v.version}
                    </option>
                  ))}
                </Select>
              </Field>
            </div>
            <pre className="max-h-[420px] overflow-auto rounded-md bg-muted p-2" data-testid="version-diff">
              {diffLines(show(left), show(right)).map((l, i) => (
                <div
                  // biome-ignore lint/suspicious/noArrayIndexKey: diff lines are positional
                  key={i}
                  className={cn(
                    `diff-${l.kind}`,
                    l.kind === 'added' && 'bg-success/20',
                    l.kind === 'removed' && 'bg-destructive/20',
                  )}
                >
                  {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
                  {l.text}
                </div>
              ))}
            </pre>
          </div>
        ) : (
          <p className="text-xs font-normal text-muted-foreground">
            Save again to have two versions to compare.
          </p>
        )}
      </div>
    </Modal>
  );
}
