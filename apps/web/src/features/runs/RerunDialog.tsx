import { useMutation } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { RunStep } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { Modal } from '../../ui/dialog.tsx';
import { Field, Hint, Textarea } from '../../ui/form.tsx';
import { ErrorText } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { placeholdersIn } from './rerun.ts';

/** What an agent step's last attempt sent the model (its rendered prompt), if it was an agent step. */
function sentPrompt(step: RunStep): { prompt: string; system?: string } | null {
  const input = step.attempts.at(-1)?.input as { prompt?: unknown; system?: unknown } | undefined;
  if (typeof input?.prompt !== 'string') return null;
  return { prompt: input.prompt, ...(typeof input.system === 'string' ? { system: input.system } : {}) };
}

/**
 * Re-run from a step: it and everything after it run again, the steps before keep their outputs. An agent
 * step's prompt (as it was sent, already rendered) can be edited first; the server sends an edited prompt
 * as written, so `{{…}}` in it is not filled in, and the dialog says so.
 */
export function RerunDialog({ runId, step, onClose }: { runId: string; step: RunStep; onClose: () => void }) {
  const navigate = useNavigate();
  const sent = sentPrompt(step);
  const [prompt, setPrompt] = useState(sent?.prompt ?? '');
  const [system, setSystem] = useState(sent?.system ?? '');
  const edited = !!sent && (prompt !== sent.prompt || system !== (sent.system ?? ''));
  const filled = placeholdersIn(`${prompt}\n${system}`);
  const rerun = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/runs/{id}/rerun', {
          params: { path: { id: runId } },
          body: {
            fromStep: step.nodeId,
            ...(edited
              ? { input: { prompt, ...(sent?.system !== undefined || system ? { system } : {}) } }
              : {}),
          },
        }),
      ),
    onSuccess: (next) => {
      toast.success(`Re-run of ${runId.slice(0, 8)} from ${step.nodeId} started`);
      void navigate({ to: '/runs/$id', params: { id: next.id } });
    },
  });
  return (
    <Modal title={`Re-run from ${step.nodeId}`} onClose={onClose} wide={!!sent}>
      <Hint className="mb-3">
        {step.nodeId} and every step after it run again; the steps before it keep their outputs from this run.
      </Hint>
      {sent && (
        <>
          {sent.system !== undefined && (
            <Field>
              System prompt
              <Textarea
                aria-label="System prompt"
                rows={3}
                value={system}
                onChange={(e) => setSystem(e.target.value)}
                spellCheck={false}
              />
            </Field>
          )}
          <Field>
            Prompt
            <Textarea
              aria-label="Prompt"
              rows={10}
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              spellCheck={false}
            />
          </Field>
          <Hint className="mb-2">
            This is the prompt as the model received it. An edited prompt is a template like the step's own:
            its placeholders are filled in from this run.
          </Hint>
          {edited && filled.length > 0 && (
            <p role="status" className="mb-3 rounded-md border bg-muted px-3 py-2 text-sm">
              {filled.join(', ')} will be filled in from this run's data, as in the step's own prompt.
            </p>
          )}
        </>
      )}
      <ErrorText error={rerun.error} />
      <div className="flex justify-end gap-2">
        <Button variant="outline" onClick={onClose}>
          Cancel
        </Button>
        <Button disabled={rerun.isPending} onClick={() => rerun.mutate()}>
          {edited ? 'Re-run with this prompt' : 'Re-run'}
        </Button>
      </div>
    </Modal>
  );
}
