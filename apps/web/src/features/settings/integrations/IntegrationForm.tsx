import { type FormEvent, useState } from 'react';
import type { IntegrationProvider } from '../../../api/types.ts';
import { Button } from '../../../ui/button.tsx';
import { Field, Input, Select } from '../../../ui/form.tsx';
import { ErrorText } from '../../../ui/page.tsx';
import { formProblem, type IntegrationForm, PROVIDER_IDS, PROVIDERS } from './integrations.ts';

/**
 * The add / edit form of a provider integration. Editing keeps the provider; an empty key field keeps
 * the current key, a new one rotates it.
 */
export function IntegrationFormView({
  initial,
  editing,
  pending,
  error,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: IntegrationForm;
  editing?: { credentialHint: string | null };
  pending: boolean;
  error: unknown;
  submitLabel: string;
  onSubmit: (form: IntegrationForm) => void;
  onCancel?: () => void;
}) {
  const [form, setForm] = useState(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const info = PROVIDERS[form.provider];
  const set = (patch: Partial<IntegrationForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setProblem(null);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = formProblem(editing ? { ...form, apiKey: form.apiKey || 'kept-key' } : form);
    setProblem(p);
    if (!p) onSubmit(form);
  };
  return (
    <form
      className="mb-4 rounded-lg border bg-card p-4 shadow-xs"
      onSubmit={submit}
      aria-label={editing ? 'Edit integration' : 'Add an integration'}
    >
      <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
        <Field>
          Provider
          <Select
            value={form.provider}
            disabled={!!editing}
            onChange={(e) => set({ provider: e.target.value as IntegrationProvider })}
          >
            {PROVIDER_IDS.map((p) => (
              <option key={p} value={p}>
                {PROVIDERS[p].label}
              </option>
            ))}
          </Select>
        </Field>
        <Field>
          Name
          <Input
            value={form.name}
            onChange={(e) => set({ name: e.target.value })}
            placeholder={`${PROVIDERS[form.provider].label} production`}
          />
        </Field>
      </div>
      <Field>
        {editing ? 'New API key (leave empty to keep the current one)' : 'API key'}
        {!editing && !info.keyRequired && ' (optional)'}
        <Input
          type="password"
          autoComplete="off"
          value={form.apiKey}
          onChange={(e) => set({ apiKey: e.target.value })}
          placeholder={
            editing?.credentialHint ?? (info.keyRequired ? 'sk-…' : 'none needed for most servers')
          }
        />
      </Field>
      {info.baseUrl !== 'none' && (
        <Field>
          Base URL{info.baseUrl === 'optional' && " (optional: the provider's default)"}
          <Input
            value={form.baseUrl}
            onChange={(e) => set({ baseUrl: e.target.value })}
            placeholder={info.baseUrlPlaceholder ?? 'https://api.example.com/v1'}
          />
        </Field>
      )}
      <Field>
        Test model{info.testModelRequired ? '' : ' (optional: a small model of the provider)'}
        <Input
          value={form.testModel}
          onChange={(e) => set({ testModel: e.target.value })}
          placeholder={info.testModelRequired ? 'the model name the server serves' : ''}
        />
      </Field>
      {info.baseUrl !== 'none' && (
        <p className="text-xs">
          A server on localhost or a private network is reachable only when the organization allows private
          networks (Settings → Usage &amp; budget).
        </p>
      )}
      {problem && (
        <p className="my-1.5 text-sm font-medium text-destructive" role="alert">
          {problem}
        </p>
      )}
      <ErrorText error={error} />
      <div className="flex flex-wrap items-end gap-3 [&>label]:min-w-32 [&>label]:flex-1">
        <Button type="submit" disabled={pending}>
          {submitLabel}
        </Button>
        {onCancel && (
          <Button type="button" variant="outline" onClick={onCancel}>
            Cancel
          </Button>
        )}
      </div>
    </form>
  );
}
