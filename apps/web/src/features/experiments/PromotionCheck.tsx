import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, call, sdk } from '../../api/client.ts';
import type { Workflow } from '../../api/types.ts';
import { useMe } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Hint, Input } from '../../ui/form.tsx';
import { ErrorText, Panel } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { percent } from '../datasets/types.ts';

interface Figures {
  experimentId: string;
  version: number;
  dataset?: string;
  minScore?: number | null;
  minPassRate?: number | null;
  shortfalls?: { evaluator: string; figure: 'mean' | 'passRate'; value: number | null; required: number }[];
  doneItems?: number;
  totalItems?: number;
}

/** True for the promotion gate's answers (409 promotion_blocked / promotion_pending). */
export const isPromotionError = (e: unknown): e is ApiError =>
  e instanceof ApiError && (e.code === 'promotion_blocked' || e.code === 'promotion_pending');

/** A workflow definition's promotion bar in words. */
export function describePolicy(p: unknown): string | null {
  if (!p || typeof p !== 'object') return null;
  const { dataset, evaluators, minScore, minPassRate } = p as Record<string, unknown>;
  const bars = [
    typeof minScore === 'number' ? `mean score ≥ ${minScore}` : null,
    typeof minPassRate === 'number' ? `pass rate ≥ ${percent(minPassRate)}` : null,
  ].filter(Boolean);
  return `Promotion gate: ${bars.join(' and ')} on dataset ${String(dataset)} (${(evaluators as string[] | undefined)?.join(', ') ?? ''})`;
}

const show = (s: NonNullable<Figures['shortfalls']>[number]) =>
  s.figure === 'passRate'
    ? [percent(s.value), percent(s.required)]
    : [String(s.value ?? '—'), String(s.required)];

/**
 * What the promotion gate said about a save: the failing figures (blocked) or the progress (pending); an
 * owner may promote anyway with a reason, which the server records in the audit log.
 */
export function PromotionCheck({
  error,
  workflowId,
  onPromoted,
}: {
  error: ApiError;
  workflowId: string;
  onPromoted: (w: Workflow) => void;
}) {
  const me = useMe();
  const f = (error.details ?? {}) as unknown as Figures;
  const [reason, setReason] = useState('');
  const promote = useMutation({
    mutationFn: (override: boolean) =>
      call(
        sdk.api.POST('/api/v1/workflows/{id}/rollback', {
          params: { path: { id: workflowId } },
          body: {
            version: f.version,
            promotionWaitSeconds: 30,
            ...(override ? { promotionOverride: { reason } } : {}),
          },
        }),
      ),
    onSuccess: onPromoted,
  });
  const latest = isPromotionError(promote.error) ? (promote.error.details as unknown as Figures) : f;
  const blocked = (isPromotionError(promote.error) ? promote.error.code : error.code) === 'promotion_blocked';
  return (
    <Panel aria-label="Promotion check" className="border-destructive/40">
      <h2 className="mb-1 text-base font-semibold">
        {blocked
          ? `Version ${f.version} was saved but not promoted: it falls short of the promotion gate`
          : `Version ${f.version} was saved; its promotion check is still running (${latest.doneItems ?? 0}/${latest.totalItems ?? '?'} items)`}
      </h2>
      {blocked && latest.shortfalls && (
        <Table aria-label="Failing figures">
          <thead>
            <tr>
              <Th>Evaluator</Th>
              <Th>Figure</Th>
              <Th>Measured</Th>
              <Th>Required</Th>
            </tr>
          </thead>
          <tbody>
            {latest.shortfalls.map((s) => (
              <tr key={`${s.evaluator}-${s.figure}`}>
                <Td>{s.evaluator}</Td>
                <Td>{s.figure === 'passRate' ? 'pass rate' : 'mean score'}</Td>
                <Td className="font-semibold text-destructive">{show(s)[0]}</Td>
                <Td>{show(s)[1]}</Td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Hint className="my-2">
        The experiment is on the <a href="/experiments">Experiments</a> page; compare it with the current
        version's to see which items regressed.
      </Hint>
      {!blocked && (
        <Button type="button" size="sm" onClick={() => promote.mutate(false)} disabled={promote.isPending}>
          Check again
        </Button>
      )}
      {blocked && me.role === 'owner' && (
        <form
          aria-label="Override the promotion gate"
          className="flex items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            promote.mutate(true);
          }}
        >
          <Field className="flex-1">
            Reason (recorded in the audit log)
            <Input
              required
              minLength={3}
              maxLength={2000}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </Field>
          <Button type="submit" variant="destructive" disabled={promote.isPending}>
            Override and promote
          </Button>
        </form>
      )}
      {blocked && me.role !== 'owner' && <Hint>Only an owner can promote it anyway.</Hint>}
      {promote.error && !isPromotionError(promote.error) && <ErrorText error={promote.error} />}
    </Panel>
  );
}
