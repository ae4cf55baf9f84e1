import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { call, sdk } from '../../api/client.ts';
import type { SyncTarget } from '../../api/types.ts';
import { useCan } from '../../app/session.tsx';
import { Button } from '../../ui/button.tsx';
import { ConfirmButton } from '../../ui/confirm.tsx';
import { Modal } from '../../ui/dialog.tsx';
import { Check, Field, FieldRow, Hint, Input, Select } from '../../ui/form.tsx';
import { formatTime } from '../../ui/format.ts';
import { Empty, ErrorText, PageHeader, Panel, Stats, Status } from '../../ui/page.tsx';
import { Table, Td, Th } from '../../ui/table.tsx';
import { toast } from '../../ui/toast.tsx';

const KEY = ['sync-targets'];

function Deliveries({ target }: { target: SyncTarget }) {
  const log = useQuery({
    queryKey: ['sync-deliveries', target.id],
    queryFn: () =>
      call(
        sdk.api.GET('/api/v1/sync-targets/{id}/deliveries', {
          params: { path: { id: target.id }, query: { limit: 10 } },
        }),
      ),
    refetchInterval: 2000,
  });
  const rows = log.data?.data ?? [];
  if (log.data && rows.length === 0) return <Hint>No attempts yet.</Hint>;
  return (
    <Table aria-label={`Recent attempts of ${target.name}`}>
      <thead>
        <tr>
          <Th>Time</Th>
          <Th>Kind</Th>
          <Th>Events</Th>
          <Th>Sequences</Th>
          <Th>Attempt</Th>
          <Th>Result</Th>
          <Th>Error</Th>
          <Th>Duration</Th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id}>
            <Td>{formatTime(d.createdAt)}</Td>
            <Td>{d.kind}</Td>
            <Td>{d.eventCount}</Td>
            <Td>{d.firstSequence === null ? '—' : `${d.firstSequence}–${d.lastSequence}`}</Td>
            <Td>{d.attempt}</Td>
            <Td>
              <Status value={d.ok ? 'success' : 'failed'} /> {d.responseCode ?? ''}
            </Td>
            <Td className="max-w-64 truncate">{d.error ?? ''}</Td>
            <Td>{d.durationMs} ms</Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

interface FormState {
  name: string;
  url: string;
  apiKey: string;
  eventTypes: string;
  scheduleKind: 'interval' | 'cron';
  intervalSeconds: string;
  cron: string;
  timezone: string;
  batchSize: string;
  enabled: boolean;
}

const EMPTY: FormState = {
  name: '',
  url: '',
  apiKey: '',
  eventTypes: 'workflow_started, workflow_finished',
  scheduleKind: 'interval',
  intervalSeconds: '60',
  cron: '*/15 * * * *',
  timezone: 'UTC',
  batchSize: '100',
  enabled: true,
};

function stateOf(t: SyncTarget): FormState {
  return {
    name: t.name,
    url: t.url,
    apiKey: '',
    eventTypes: t.eventTypes.join(', '),
    scheduleKind: t.cron ? 'cron' : 'interval',
    intervalSeconds: String(t.intervalSeconds ?? 60),
    cron: t.cron ?? EMPTY.cron,
    timezone: t.timezone,
    batchSize: String(t.batchSize),
    enabled: t.enabled,
  };
}

/** The request body; on edit an empty API key keeps the stored one. */
function bodyOf(f: FormState, editing: boolean) {
  return {
    name: f.name,
    url: f.url,
    ...(f.apiKey ? { apiKey: f.apiKey } : {}),
    enabled: f.enabled,
    eventTypes: f.eventTypes
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    ...(f.scheduleKind === 'cron'
      ? { cron: f.cron, timezone: f.timezone }
      : { intervalSeconds: Number(f.intervalSeconds), ...(editing ? {} : { timezone: f.timezone }) }),
    batchSize: Number(f.batchSize),
  };
}

function TargetForm({
  initial,
  editing,
  pending,
  error,
  onSubmit,
}: {
  initial: FormState;
  editing: boolean;
  pending: boolean;
  error: unknown;
  onSubmit: (f: FormState) => void;
}) {
  const [f, setF] = useState(initial);
  const set = (patchState: Partial<FormState>) => setF((x) => ({ ...x, ...patchState }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(f);
  };
  return (
    <form onSubmit={submit} aria-label={editing ? 'Edit sync target' : 'Add a sync target'}>
      <FieldRow>
        <Field>
          Name
          <Input required value={f.name} onChange={(e) => set({ name: e.target.value })} />
        </Field>
        <Field>
          URL
          <Input
            required
            type="url"
            value={f.url}
            onChange={(e) => set({ url: e.target.value })}
            placeholder="https://bridge.example.com/ingest"
          />
        </Field>
        <Field>
          API key
          <Input
            type="password"
            autoComplete="off"
            value={f.apiKey}
            onChange={(e) => set({ apiKey: e.target.value })}
            placeholder={editing ? 'unchanged' : 'sent as Authorization: Bearer'}
          />
        </Field>
      </FieldRow>
      <FieldRow>
        <Field>
          Event types
          <Input value={f.eventTypes} onChange={(e) => set({ eventTypes: e.target.value })} />
        </Field>
        <Field>
          Schedule
          <Select
            value={f.scheduleKind}
            onChange={(e) => set({ scheduleKind: e.target.value as FormState['scheduleKind'] })}
          >
            <option value="interval">Every N seconds</option>
            <option value="cron">Cron expression</option>
          </Select>
        </Field>
        {f.scheduleKind === 'interval' ? (
          <Field>
            Interval (seconds)
            <Input
              required
              type="number"
              min={1}
              max={86400}
              value={f.intervalSeconds}
              onChange={(e) => set({ intervalSeconds: e.target.value })}
            />
          </Field>
        ) : (
          <>
            <Field>
              Cron
              <Input required value={f.cron} onChange={(e) => set({ cron: e.target.value })} />
            </Field>
            <Field>
              Time zone
              <Input required value={f.timezone} onChange={(e) => set({ timezone: e.target.value })} />
            </Field>
          </>
        )}
        <Field>
          Batch size
          <Input
            required
            type="number"
            min={1}
            max={1000}
            value={f.batchSize}
            onChange={(e) => set({ batchSize: e.target.value })}
          />
        </Field>
      </FieldRow>
      <Check>
        <input type="checkbox" checked={f.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        Enabled
      </Check>
      <ErrorText error={error} />
      <Button type="submit" disabled={pending}>
        {editing ? 'Save' : 'Add target'}
      </Button>
    </form>
  );
}

function TargetPanel({ t, onEdit }: { t: SyncTarget; onEdit: () => void }) {
  const client = useQueryClient();
  const canManage = useCan('integration:manage');
  const refresh = () => {
    void client.invalidateQueries({ queryKey: KEY });
    void client.invalidateQueries({ queryKey: ['sync-deliveries', t.id] });
  };
  const toggle = useMutation({
    mutationFn: () =>
      call(
        sdk.api.PATCH('/api/v1/sync-targets/{id}', {
          params: { path: { id: t.id } },
          body: { enabled: !t.enabled },
        }),
      ),
    onSuccess: refresh,
  });
  const resync = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/sync-targets/{id}/resync', { params: { path: { id: t.id } } })),
    onSuccess: () => {
      toast.success(`Full resync of ${t.name} started`);
      refresh();
    },
  });
  const test = useMutation({
    mutationFn: () =>
      call(sdk.api.POST('/api/v1/sync-targets/{id}/test', { params: { path: { id: t.id } } })),
    onSuccess: (r) => {
      if (r.ok) toast.success(`Test batch accepted (HTTP ${r.responseCode})`);
      else toast.error(`Test batch failed: ${r.error}`);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () => call(sdk.api.DELETE('/api/v1/sync-targets/{id}', { params: { path: { id: t.id } } })),
    onSuccess: refresh,
  });
  return (
    <Panel aria-label={`Sync target ${t.name}`} data-testid={`sync-${t.name}`}>
      <div className="mb-2 flex flex-wrap items-center gap-2">
        <strong>{t.name}</strong>
        <Status value={t.enabled ? t.status : 'disabled'} />
        <span className="text-sm text-muted-foreground">
          {t.url} · {t.eventTypes.length ? t.eventTypes.join(', ') : 'all but step events'} ·{' '}
          {t.cron ? `cron ${t.cron} (${t.timezone})` : `every ${t.intervalSeconds} s`}
        </span>
        {canManage && (
          <span className="ml-auto flex gap-1.5">
            <Button size="sm" variant="outline" type="button" onClick={() => test.mutate()}>
              Send test
            </Button>
            <Button size="sm" variant="outline" type="button" onClick={() => resync.mutate()}>
              Full resync
            </Button>
            <Button size="sm" variant="outline" type="button" onClick={onEdit}>
              Edit
            </Button>
            <Button size="sm" variant="outline" type="button" onClick={() => toggle.mutate()}>
              {t.enabled ? 'Disable' : 'Enable'}
            </Button>
            <ConfirmButton
              size="sm"
              label="Delete"
              question={`Delete the sync target ${t.name}? Its attempt log goes with it.`}
              onConfirm={() => remove.mutate()}
            />
          </span>
        )}
      </div>
      <Stats inline>
        <dt>Last sync</dt>
        <dd data-testid="last-sync">{t.lastSyncAt ? formatTime(t.lastSyncAt) : 'never'}</dd>
        <dt>Next sync</dt>
        <dd>{t.enabled ? formatTime(t.nextSyncAt) : '—'}</dd>
        <dt>Cursor (last event sequence)</dt>
        <dd data-testid="cursor">{t.cursorSequence}</dd>
        <dt>API key</dt>
        <dd>{t.apiKeyHint ?? 'none'}</dd>
        <dt>Signing secret</dt>
        <dd>{t.secretHint}</dd>
      </Stats>
      {t.lastError && (
        <p className="my-2 text-sm text-destructive" role="alert">
          Last error ({t.consecutiveFailures} in a row): {t.lastError}
        </p>
      )}
      <ErrorText error={toggle.error ?? resync.error ?? test.error ?? remove.error} />
      <Deliveries target={t} />
    </Panel>
  );
}

/** Settings → Outbound sync: targets that receive the organization's events in signed batches. */
export default function SyncTargetsPage() {
  const client = useQueryClient();
  const canManage = useCan('integration:manage');
  const targets = useQuery({
    queryKey: KEY,
    queryFn: () => call(sdk.api.GET('/api/v1/sync-targets')),
    refetchInterval: 2000,
  });
  const [secret, setSecret] = useState<string | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [editing, setEditing] = useState<SyncTarget | null>(null);
  const refresh = () => void client.invalidateQueries({ queryKey: KEY });
  const create = useMutation({
    mutationFn: (f: FormState) => call(sdk.api.POST('/api/v1/sync-targets', { body: bodyOf(f, false) })),
    onSuccess: (t) => {
      setSecret(t.secret ?? null);
      toast.success(`Sync target ${t.name} added`);
      setFormKey((k) => k + 1);
      refresh();
    },
  });
  const save = useMutation({
    mutationFn: (f: FormState) =>
      call(
        sdk.api.PATCH('/api/v1/sync-targets/{id}', {
          params: { path: { id: editing!.id } },
          body: bodyOf(f, true),
        }),
      ),
    onSuccess: (t) => {
      toast.success(`Sync target ${t.name} saved`);
      setEditing(null);
      refresh();
    },
  });
  const list = targets.data?.data ?? [];
  return (
    <section>
      <PageHeader title="Outbound sync" />
      <Hint className="mb-3">
        Each target receives the organization's events (runs, workflows, agent tasks, alerts) in batches: a
        JSON POST signed with Standard Webhooks, the API key as a bearer token, on its schedule. A failed
        batch is retried with growing pauses and nothing moves on until the target answers 2xx; a full resync
        sends everything still kept (7 days) again. Types: exact names or a prefix ending in <code>*</code>,
        and empty means everything but step events.
      </Hint>
      {canManage && (
        <Panel>
          <TargetForm
            key={formKey}
            initial={EMPTY}
            editing={false}
            pending={create.isPending}
            error={create.error}
            onSubmit={(f) => create.mutate(f)}
          />
          {secret && (
            <p className="mt-2 text-sm text-warning" role="status">
              <strong>Signing secret (shown once):</strong> <code data-testid="sync-secret">{secret}</code>
            </p>
          )}
        </Panel>
      )}
      <ErrorText error={targets.error} />
      {targets.data && list.length === 0 && (
        <Empty title="No sync targets">
          <p>Add a target above to push this organization's events to another system.</p>
        </Empty>
      )}
      {list.map((t) => (
        <TargetPanel key={t.id} t={t} onEdit={() => setEditing(t)} />
      ))}
      {editing && (
        <Modal title={`Edit ${editing.name}`} onClose={() => setEditing(null)} wide>
          <TargetForm
            initial={stateOf(editing)}
            editing
            pending={save.isPending}
            error={save.error}
            onSubmit={(f) => save.mutate(f)}
          />
        </Modal>
      )}
    </section>
  );
}
