import { useMutation } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import { Button } from '../../../ui/button.tsx';
import { Modal } from '../../../ui/dialog.tsx';
import { Check, Field, Input, Select, Textarea } from '../../../ui/form.tsx';
import { ErrorText } from '../../../ui/page.tsx';
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
  const navigate = useNavigate();
  const fields = fieldsOf(schema);
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const start = useMutation({
    mutationFn: (input: Record<string, unknown>) =>
      call(
        sdk.api.POST('/api/v1/workflows/{id}/runs', {
          params: { path: { id: workflowId } },
          body: { input },
        }),
      ),
    onSuccess: (run) => void navigate({ to: '/runs/$id', params: { id: run.id } }),
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
          <p className="text-xs font-normal text-muted-foreground">
            This workflow takes no input (its input schema has no properties).
          </p>
        )}
        {fields.map((f) => {
          const v = values[f.name] ?? f.initial;
          const note = (
            <>
              {f.description && (
                <span className="text-xs font-normal text-muted-foreground">{f.description}</span>
              )}
              {errors[f.name] && (
                <span className="my-1.5 text-sm font-medium text-destructive" role="alert">
                  {f.label} {errors[f.name]}
                </span>
              )}
            </>
          );
          if (f.kind === 'boolean') {
            return (
              <Check key={f.name}>
                <input
                  className="size-4 accent-primary"
                  type="checkbox"
                  checked={v === true}
                  onChange={(e) => set(f.name, e.target.checked)}
                />
                {f.label}
                {note}
              </Check>
            );
          }
          if (f.kind === 'enum') {
            return (
              <Field key={f.name}>
                {f.label}
                {f.required ? ' *' : ''}
                <Select value={String(v)} onChange={(e) => set(f.name, e.target.value)}>
                  <option value="">choose…</option>
                  {f.options.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </Select>
                {note}
              </Field>
            );
          }
          if (f.kind === 'json') {
            return (
              <Field key={f.name}>
                {f.label} (JSON){f.required ? ' *' : ''}
                <Textarea rows={3} value={String(v)} onChange={(e) => set(f.name, e.target.value)} />
                {note}
              </Field>
            );
          }
          return (
            <Field key={f.name}>
              {f.label}
              {f.required ? ' *' : ''}
              <Input
                type={f.kind === 'text' ? 'text' : 'number'}
                value={String(v)}
                onChange={(e) => set(f.name, e.target.value)}
              />
              {note}
            </Field>
          );
        })}
        <ErrorText error={start.error} />
        <div className="flex flex-wrap items-center justify-end gap-2">
          <Button type="button" variant="outline" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" disabled={start.isPending}>
            Start run
          </Button>
        </div>
      </form>
    </Modal>
  );
}
