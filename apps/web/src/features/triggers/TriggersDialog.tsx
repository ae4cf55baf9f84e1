import type { paths } from '@aiops/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { Trigger } from '../../api/types.ts';
import { Button } from '../../ui/button.tsx';
import { Modal } from '../../ui/dialog.tsx';
import { Field, FieldRow, Hint, Input, Select, Textarea } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { ErrorText, Status } from '../../ui/page.tsx';
import { toast } from '../../ui/toast.tsx';
import { type CronPreset, cronOf, curlFor, localZone, PRESETS } from './cron.ts';

type Kind = 'schedule' | 'webhook' | 'event';
/** A new trigger as POST /workflows/:id/triggers takes it (the SDK's type of the route's body). */
type NewTrigger =
  paths['/api/v1/workflows/{id}/triggers']['post']['requestBody']['content']['application/json'];
type ScheduleSpec = Extract<NewTrigger, { type: 'schedule' }>['schedule'];
type WebhookSpec = NonNullable<Extract<NewTrigger, { type: 'webhook' }>['webhook']>;
type Missed = NonNullable<ScheduleSpec['missedFirePolicy']>;

function useCronPreview(cron: string, timezone: string) {
  return useQuery({
    queryKey: ['cron-preview', cron, timezone],
    queryFn: () =>
      call(sdk.api.GET('/api/v1/triggers/cron-preview', { params: { query: { cron, timezone, count: 5 } } })),
    enabled: cron.length > 0 && timezone.length > 0,
    retry: false,
  });
}

/** The schedule part of the form: presets + time, or a cron expression; the next five fire times. */
function ScheduleFields({ onChange }: { onChange: (v: ScheduleSpec) => void }) {
  const [preset, setPreset] = useState<CronPreset>('daily');
  const [time, setTime] = useState('09:00');
  const [custom, setCustom] = useState('*/15 * * * *');
  const [timezone, setTimezone] = useState(localZone());
  const [missed, setMissed] = useState<Missed>('skip');
  const cron = cronOf(preset, time, custom);
  const preview = useCronPreview(cron, timezone);
  const emit = (
    next: Partial<{ preset: CronPreset; time: string; custom: string; tz: string; missed: Missed }>,
  ) => {
    const p = next.preset ?? preset;
    const c = cronOf(p, next.time ?? time, next.custom ?? custom);
    onChange({ cron: c, timezone: next.tz ?? timezone, missedFirePolicy: next.missed ?? missed });
  };
  return (
    <>
      <FieldRow>
        <Field>
          Repeat
          <Select
            value={preset}
            onChange={(e) => {
              setPreset(e.target.value as CronPreset);
              emit({ preset: e.target.value as CronPreset });
            }}
          >
            {PRESETS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </Select>
        </Field>
        {['daily', 'weekdays', 'weekly'].includes(preset) && (
          <Field>
            At
            <Input
              type="time"
              value={time}
              onChange={(e) => {
                setTime(e.target.value);
                emit({ time: e.target.value });
              }}
            />
          </Field>
        )}
        {preset === 'custom' && (
          <Field>
            Cron expression
            <Input
              value={custom}
              onChange={(e) => {
                setCustom(e.target.value);
                emit({ custom: e.target.value });
              }}
              placeholder="*/15 * * * *"
            />
          </Field>
        )}
        <Field>
          Time zone
          <Input
            value={timezone}
            onChange={(e) => {
              setTimezone(e.target.value);
              emit({ tz: e.target.value });
            }}
          />
        </Field>
        <Field>
          After downtime
          <Select
            value={missed}
            onChange={(e) => {
              const value = e.target.value as Missed;
              setMissed(value);
              emit({ missed: value });
            }}
          >
            <option value="skip">skip missed times</option>
            <option value="catchUp">catch up (up to 10)</option>
          </Select>
        </Field>
      </FieldRow>
      <Hint>
        Cron: <code data-testid="cron-expression">{cron}</code>
      </Hint>
      <ErrorText error={preview.error} />
      {preview.data && (
        <div className="mb-3 text-sm">
          <p className="font-medium">Next five fire times ({timezone})</p>
          <ol className="list-decimal pl-5" data-testid="next-fire-times">
            {preview.data.times.map((t) => (
              <li key={t}>{new Date(t).toLocaleString(undefined, { timeZone: timezone })}</li>
            ))}
          </ol>
        </div>
      )}
    </>
  );
}

function describe(t: Trigger): string {
  if (t.schedule)
    return `${t.schedule.cron} (${t.schedule.timezone}); next ${formatTime(t.schedule.nextFireAt)}`;
  if (t.webhook) return `${t.webhook.auth} auth, ${t.webhook.mode}`;
  if (t.event)
    return `${t.event.type}${t.event.source ? ` from ${t.event.source}` : ''}${t.event.filter ? ` if ${t.event.filter}` : ''}`;
  return '';
}

/** The URL, the secret (only right after creating or rotating) and a copyable curl of a webhook trigger. */
function WebhookDetails({ trigger, secret }: { trigger: Trigger; secret: string | undefined }) {
  const w = trigger.webhook!;
  const url = `${window.location.origin}${w.path}`;
  const curl = curlFor(url, w.auth, secret);
  return (
    <div className="mt-2 rounded-md border bg-muted/40 p-2.5 text-sm" data-testid={`webhook-${trigger.id}`}>
      <p>
        URL: <code data-testid="webhook-url">{url}</code>
      </p>
      {secret ? (
        <p className="text-warning" role="status">
          <strong>Copy the secret now: it is shown once.</strong>{' '}
          <code data-testid="webhook-secret">{secret}</code>
        </p>
      ) : (
        w.secretHint && <p>Secret: {w.secretHint} (rotate to see a new one)</p>
      )}
      <Textarea readOnly aria-label="curl command" rows={secret || w.auth === 'none' ? 3 : 2} value={curl} />
      <Button type="button" size="sm" onClick={() => void navigator.clipboard?.writeText(curl)}>
        Copy curl
      </Button>
    </div>
  );
}

function Firings({ id }: { id: string }) {
  const firings = useQuery({
    queryKey: ['firings', id],
    queryFn: () =>
      call(sdk.api.GET('/api/v1/triggers/{id}/firings', { params: { path: { id }, query: { limit: 5 } } })),
    refetchInterval: 2000,
  });
  const rows = firings.data?.data ?? [];
  if (!rows.length) return <Hint>No firings yet.</Hint>;
  return (
    <ul className="text-xs" aria-label="Recent firings">
      {rows.map((f) => (
        <li key={f.id} className="flex gap-2">
          <span>{formatTime(f.createdAt)}</span>
          <Status value={f.status} />
          {f.runId && (
            <Link to="/runs/$id" params={{ id: f.runId }}>
              run {f.runId.slice(0, 8)}
            </Link>
          )}
          {f.reason && <span className="text-muted-foreground">{f.reason}</span>}
        </li>
      ))}
    </ul>
  );
}

/** The workflow editor's Triggers panel: schedules, webhooks and event triggers of one workflow. */
export function TriggersDialog({ workflowId, onClose }: { workflowId: string; onClose: () => void }) {
  const client = useQueryClient();
  const key = ['triggers', workflowId];
  const triggers = useQuery({
    queryKey: key,
    queryFn: () =>
      call(sdk.api.GET('/api/v1/workflows/{id}/triggers', { params: { path: { id: workflowId } } })),
  });
  const [kind, setKind] = useState<Kind>('schedule');
  const [name, setName] = useState('');
  const [schedule, setSchedule] = useState<ScheduleSpec>({
    cron: '0 9 * * *',
    timezone: localZone(),
    missedFirePolicy: 'skip',
  });
  const [webhook, setWebhook] = useState<WebhookSpec>({ auth: 'standard', mode: 'async' });
  const [event, setEvent] = useState({ type: '', source: '', filter: '' });
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const refresh = () => void client.invalidateQueries({ queryKey: key });
  const newTrigger = (type: Kind, triggerName: string): NewTrigger =>
    type === 'schedule'
      ? { type, name: triggerName, schedule }
      : type === 'webhook'
        ? { type, name: triggerName, webhook }
        : {
            type,
            name: triggerName,
            event: { type: event.type, source: event.source || null, filter: event.filter || null },
          };
  const create = useMutation({
    mutationFn: () =>
      call(
        sdk.api.POST('/api/v1/workflows/{id}/triggers', {
          params: { path: { id: workflowId } },
          body: newTrigger(kind, name || `${kind} ${new Date().toLocaleTimeString()}`),
        }),
      ),
    onSuccess: (t) => {
      if (t.webhook?.secret) setSecrets((s) => ({ ...s, [t.id]: t.webhook!.secret! }));
      toast.success(`Trigger ${t.name} added`);
      setName('');
      refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: (t: Trigger) =>
      call(
        sdk.api.PATCH('/api/v1/triggers/{id}', {
          params: { path: { id: t.id } },
          body: { enabled: !t.enabled },
        }),
      ),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(sdk.api.DELETE('/api/v1/triggers/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const rotate = useMutation({
    mutationFn: (id: string) =>
      call(sdk.api.POST('/api/v1/triggers/{id}/rotate-secret', { params: { path: { id } } })),
    onSuccess: (t) => {
      setSecrets((s) => ({ ...s, [t.id]: t.webhook!.secret! }));
      refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const list = triggers.data?.data ?? [];
  return (
    <Modal title="Triggers" wide onClose={onClose} description="Only active workflows fire from triggers.">
      <ErrorText error={triggers.error ?? toggle.error ?? remove.error ?? rotate.error} />
      {list.length === 0 && triggers.data && (
        <Hint>No triggers yet: runs start only by hand or through the API.</Hint>
      )}
      <ul className="mb-4 flex flex-col gap-2" aria-label="Triggers of this workflow">
        {list.map((t) => (
          <li key={t.id} className="rounded-md border p-2.5" data-testid={`trigger-${t.name}`}>
            <div className="flex flex-wrap items-center gap-2">
              <strong>{t.name}</strong>
              <Status value={t.type} />
              <span className="text-sm text-muted-foreground">{describe(t)}</span>
              <span className="ml-auto flex gap-1.5">
                <Button type="button" size="sm" variant="outline" onClick={() => toggle.mutate(t)}>
                  {t.enabled ? 'Disable' : 'Enable'}
                </Button>
                {t.webhook && t.webhook.auth !== 'none' && (
                  <Button type="button" size="sm" variant="outline" onClick={() => rotate.mutate(t.id)}>
                    Rotate secret
                  </Button>
                )}
                <Button type="button" size="sm" variant="outline" onClick={() => remove.mutate(t.id)}>
                  Delete
                </Button>
              </span>
            </div>
            {t.schedule && (
              <Hint>
                Next:{' '}
                {t.schedule.nextFireTimes
                  .slice(0, 5)
                  .map((x) => formatTime(x))
                  .join(' · ')}
              </Hint>
            )}
            {t.webhook && <WebhookDetails trigger={t} secret={secrets[t.id]} />}
            <Firings id={t.id} />
          </li>
        ))}
      </ul>
      <form onSubmit={submit} aria-label="Add a trigger" className="rounded-md border p-3">
        <FieldRow>
          <Field>
            Kind
            <Select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              <option value="schedule">Schedule (cron)</option>
              <option value="webhook">Webhook</option>
              <option value="event">Event</option>
            </Select>
          </Field>
          <Field>
            Name
            <Input value={name} onChange={(e) => setName(e.target.value)} placeholder="nightly report" />
          </Field>
        </FieldRow>
        {kind === 'schedule' && <ScheduleFields onChange={setSchedule} />}
        {kind === 'webhook' && (
          <FieldRow>
            <Field>
              Verification
              <Select
                value={webhook.auth}
                onChange={(e) => setWebhook({ ...webhook, auth: e.target.value as WebhookSpec['auth'] })}
              >
                <option value="standard">Standard Webhooks signature</option>
                <option value="bearer">Bearer token</option>
                <option value="none">None (anyone with the URL)</option>
              </Select>
            </Field>
            <Field>
              Answer
              <Select
                value={webhook.mode}
                onChange={(e) => setWebhook({ ...webhook, mode: e.target.value as WebhookSpec['mode'] })}
              >
                <option value="async">at once (202 with the run id)</option>
                <option value="sync">with the run's output (waits up to 30 s)</option>
              </Select>
            </Field>
          </FieldRow>
        )}
        {kind === 'event' && (
          <FieldRow>
            <Field>
              Event type
              <Input
                required
                value={event.type}
                onChange={(e) => setEvent({ ...event, type: e.target.value })}
                placeholder="order.created"
              />
            </Field>
            <Field>
              Source (optional)
              <Input value={event.source} onChange={(e) => setEvent({ ...event, source: e.target.value })} />
            </Field>
            <Field>
              Filter (CEL, optional)
              <Input
                value={event.filter}
                onChange={(e) => setEvent({ ...event, filter: e.target.value })}
                placeholder="data.total > 100"
              />
            </Field>
          </FieldRow>
        )}
        <ErrorText error={create.error} />
        <Button type="submit" disabled={create.isPending}>
          Add trigger
        </Button>
      </form>
    </Modal>
  );
}
