import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { Field, Hint, Input } from '../../ui/form.tsx';
import { ErrorText, PageHeader } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';

const FIELDS = [
  {
    key: 'logsDays',
    label: 'Logs (days)',
    hint: 'Execution logs, spans and per-attempt agent metric samples.',
  },
  { key: 'metricsDays', label: 'Metrics (days)', hint: 'Hourly and daily agent metric rollups.' },
  {
    key: 'executionsDays',
    label: 'Executions (days)',
    hint: 'Finished runs, with their steps and attempts.',
  },
] as const;
type Key = (typeof FIELDS)[number]['key'];

/** How long the organization's logs, metrics and runs are kept (GET/PUT /organization/retention). */
export default function RetentionPage() {
  const client = useQueryClient();
  const canEdit = useCan('retention:manage');
  const q = useQuery({
    queryKey: ['retention'],
    queryFn: () => call(sdk.api.GET('/api/v1/organization/retention')),
  });
  const [form, setForm] = useState<Record<Key, string>>({
    logsDays: '',
    metricsDays: '',
    executionsDays: '',
  });
  useEffect(() => {
    if (q.data)
      setForm({
        logsDays: String(q.data.logsDays),
        metricsDays: String(q.data.metricsDays),
        executionsDays: String(q.data.executionsDays),
      });
  }, [q.data]);
  const save = useMutation({
    mutationFn: () =>
      call(
        sdk.api.PUT('/api/v1/organization/retention', {
          body: {
            logsDays: Number(form.logsDays),
            metricsDays: Number(form.metricsDays),
            executionsDays: Number(form.executionsDays),
          },
        }),
      ),
    onSuccess: (r) => {
      client.setQueryData(['retention'], r);
      toast.success('Retention saved');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const d = q.data?.defaults;
  return (
    <section>
      <PageHeader title="Data retention" />
      <ErrorText error={q.error} />
      <form
        aria-label="Retention"
        className="mb-4 max-w-2xl rounded-lg border bg-card p-4 shadow-xs"
        onSubmit={submit}
      >
        <p className="text-sm text-muted-foreground">
          Older data is deleted by the daily retention job; whole expired months are archived as compressed
          JSON lines before they are dropped.{' '}
          {q.data && (q.data.custom ? 'This organization has its own periods.' : 'The defaults apply.')}
        </p>
        {FIELDS.map((f) => (
          <Field key={f.key}>
            {f.label}
            <Input
              type="number"
              min={1}
              max={3650}
              step={1}
              required
              disabled={!canEdit}
              value={form[f.key]}
              onChange={(e) => setForm((x) => ({ ...x, [f.key]: e.target.value }))}
            />
            <Hint>
              {f.hint}
              {d ? ` Default ${d[f.key]}.` : ''}
            </Hint>
          </Field>
        ))}
        <ErrorText error={save.error} />
        {!canEdit && <p className="text-sm text-muted-foreground">Only owners can change retention.</p>}
        <Button type="submit" disabled={!canEdit || save.isPending}>
          Save retention
        </Button>
      </form>
    </section>
  );
}
