import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { post } from '../../../api/client.ts';
import type { Run } from '../../../api/types.ts';
import { navigate } from '../../../app/router.tsx';
import { ErrorText, Modal } from '../../../ui/kit.tsx';
import { buildInput, fieldsOf } from './schema-form.ts';

/** Start a run: a form generated from the workflow's input schema; then the live run view. */
export function RunDialog({
  workflowId,
  schema,
  onClose,
}: {
  workflowId: string;
  schema: Record<string, unknown> | undefined;
  onClose: () => void;
}) {
  const fields = fieldsOf(schema);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const start = useMutation({
    mutationFn: (input: Record<string, unknown>) => post<Run>(`/workflows/${workflowId}/runs`, { input }),
    onSuccess: (run) => navigate(`/runs/${run.id}`),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { input, errors } = buildInput(fields, values);
    setErrors(errors);
    if (Object.keys(errors).length === 0) start.mutate(input);
  };
  const set = (name: string, v: string | boolean) => setValues((s) => ({ ...s, [name]: v }));
  return (
    <Modal title="Run workflow" onClose={onClose}>
      <form onSubmit={submit} aria-label="Run input">
        {fields.length === 0 && (
          <p className="hint">This workflow takes no input (its input schema has no properties).</p>
        )}
        {fields.map((f) => {
          const v = values[f.name] ?? f.initial;
          const note = (
            <>
              {f.description && <span className="hint">{f.description}</span>}
              {errors[f.name] && (
                <span className="error" role="alert">
                  {f.label} {errors[f.name]}
                </span>
              )}
            </>
          );
          if (f.kind === 'boolean') {
            return (
              <label key={f.name} className="check">
                <input type="checkbox" checked={v === true} onChange={(e) => set(f.name, e.target.checked)} />
                {f.label}
                {note}
              </label>
            );
          }
          if (f.kind === 'enum') {
            return (
              <label key={f.name}>
                {f.label}
                {f.required ? ' *' : ''}
                <select value={String(v)} onChange={(e) => set(f.name, e.target.value)}>
                  <option value="">choose…</option>
                  {f.options.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </select>
                {note}
              </label>
            );
          }
          if (f.kind === 'json') {
            return (
              <label key={f.name}>
                {f.label} (JSON){f.required ? ' *' : ''}
                <textarea rows={3} value={String(v)} onChange={(e) => set(f.name, e.target.value)} />
                {note}
              </label>
            );
          }
          return (
            <label key={f.name}>
              {f.label}
              {f.required ? ' *' : ''}
              <input
                type={f.kind === 'text' ? 'text' : 'number'}
                value={String(v)}
                onChange={(e) => set(f.name, e.target.value)}
              />
              {note}
            </label>
          );
        })}
        <ErrorText error={start.error} />
        <div className="actions">
          <button type="button" className="ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" disabled={start.isPending}>
            Start run
          </button>
        </div>
      </form>
    </Modal>
  );
}
